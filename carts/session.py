"""The shopper's cart on the pages: the account's, or one kept in the session.

An anonymous shopper's cart is a `Cart` without a user whose id the Django
session keeps under SESSION_KEY. The session's data survives the key
rotation at login (`django.contrib.auth.login` cycles the key and keeps the
data), so the login receiver (carts/receivers.py) still finds the id and
merges that cart into the account's.
"""

from typing import Literal, overload

from django.db.models import Sum
from django.http import HttpRequest

from carts import services
from carts.models import Cart, CartItem
from catalog import services as catalog_services

SESSION_KEY = "carts.cart_id"


def session_cart_id(request: HttpRequest) -> int | None:
    """The id of the session's cart as a whole number, or None."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    # The session is written only by this module, but it may hold a value
    # from an older release: anything but a whole number counts as none.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


@overload
def current_cart(
    request: HttpRequest, *, create: Literal[True], with_lines: bool = False
) -> Cart: ...
@overload
def current_cart(
    request: HttpRequest, *, create: bool = False, with_lines: bool = False
) -> Cart | None: ...
def current_cart(
    request: HttpRequest, *, create: bool = False, with_lines: bool = False
) -> Cart | None:
    """The request's cart: the account's when logged in, else the session's.

    With `create`, a cart is made when there is none (an account's on first
    use, a new session cart when the session holds none or one since deleted
    as stale). Without it, None when there is no cart yet: reading a page
    never creates one. `with_lines` loads the lines and their products too.
    """
    if with_lines:
        # The lines are priced as they are read: at the prices in force.
        catalog_services.ensure_sale_prices()
    carts = Cart.objects.with_lines() if with_lines else Cart.objects.all()
    user = request.user
    if user.is_authenticated:
        cart = carts.filter(user=user).first()
        if cart is None and create:
            cart = services.get_user_cart(user=user)
        return cart
    cart_id = session_cart_id(request)
    cart = None
    if cart_id is not None:
        cart = carts.anonymous().filter(pk=cart_id).first()
    if cart is None and create:
        cart = services.create_session_cart()
        request.session[SESSION_KEY] = cart.pk
    return cart


def forget_session_cart(request: HttpRequest) -> None:
    """Drop the session's cart id (after a merge)."""
    request.session.pop(SESSION_KEY, None)


def cart_units(request: HttpRequest) -> int:
    """Units in the request's cart, in one query (none without a cart)."""
    user = request.user
    if user.is_authenticated:
        lines = CartItem.objects.filter(cart__user=user)
    else:
        cart_id = session_cart_id(request)
        if cart_id is None:
            return 0
        lines = CartItem.objects.filter(cart_id=cart_id)
    return lines.aggregate(units=Sum("quantity"))["units"] or 0
