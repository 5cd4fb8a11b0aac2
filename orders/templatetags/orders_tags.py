from django import template
from django.conf import settings

from orders import services

register = template.Library()


@register.simple_tag
def shipping_estimate(subtotal):
    """The checkout's figures for a cart's subtotal, and what free shipping needs.

    For the cart page: the shipping rule stays in orders.services, and the
    carts app's code need not import orders.
    """
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
