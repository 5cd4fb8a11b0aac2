from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def money(amount):
    """Format an amount in the store's currency: 1,299.00 USD."""
    if amount is None or amount == "":
        return ""
    return f"{Decimal(amount):,.2f}\N{NO-BREAK SPACE}{settings.STORE_CURRENCY}"
