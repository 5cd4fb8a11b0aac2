"""Pricing rules made as staff make them: through the services."""

from decimal import Decimal

from pricing import services
from pricing.models import ShippingZone


def method_data(code="standard", **fields):
    """A shipping method as save_shipping_zone takes it: 4.95, 3 days."""
    return {
        "code": code,
        "name": code.title(),
        "price": Decimal("4.95"),
        "free_above": None,
        "estimated_days": 3,
        **fields,
    }


def shipping_zone(name="Europe", countries=("DE", "FR"), methods=None):
    """A zone saved through the service, with `methods` (one standard one)."""
    return services.save_shipping_zone(
        zone=ShippingZone(name=name, countries=list(countries)),
        methods=[method_data()] if methods is None else methods,
    )
