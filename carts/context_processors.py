"""The header's cart count, for every page rendered with a request."""

from functools import cache

from carts.session import cart_units


def cart(request):
    """`cart_count`: the units in the shopper's cart, None when unknown.

    A callable, which the template calls only when it shows the count: at
    most one query per page, and none for a page without the header or a
    page that sets `cart_count` itself (the cart page knows it already).
    """
    # A request refused before AuthenticationMiddleware ran (a Host header
    # not in ALLOWED_HOSTS, answered with the 400 page) has no user: whose
    # cart the session holds is unknown, so the header shows no count.
    if not hasattr(request, "user"):
        return {"cart_count": None}

    @cache
    def cart_count():
        return cart_units(request)

    return {"cart_count": cart_count}
