from django import template
from django.conf import settings

from orders import services

register = template.Library()


@register.simple_tag
def shipping_estimate(subtotal):
    """The checkout's figures for a cart's subtotal, and what free shipping needs.

    Where staff have defined shipping methods, the cheapest of them gives
    the figures (`by_method`); otherwise the store's flat rule.

    For the cart page: the shipping rule stays in orders.services, and the
    carts app's code need not import orders.
    """
    options = services.shipping_options(
        subtotal=subtotal, methods=services.all_shipping_methods()
    )
    if options:
        # The country is not known yet: the cheapest method's figures, the
        # method chosen at checkout.
        cheapest = min(
            (totals for method, totals in options if method is not None),
            key=lambda totals: totals.total,
        )
        return {
            "subtotal": cheapest.subtotal,
            "shipping_cost": cheapest.shipping_cost,
            "total": cheapest.total,
            "by_method": True,
            "missing_for_free_shipping": 0,
        }
    totals = services.checkout_totals(subtotal=subtotal)
    threshold = settings.FREE_SHIPPING_THRESHOLD
    return {
        "subtotal": totals.subtotal,
        "shipping_cost": totals.shipping_cost,
        "total": totals.total,
        "free_shipping_from": threshold,
        "missing_for_free_shipping": max(threshold - totals.subtotal, 0)
        if totals.shipping_cost
        else 0,
    }
