"""The carts' answer to a login: the session's cart joins the account's.

Connected in CartsConfig.ready() to Django's `user_logged_in`, which
`django.contrib.auth.login` sends for the login page, registration and the
admin alike, and to accounts' `api_login` for the API's token and register
endpoints; accounts does not know about carts (STYLE.md).
"""

from django.contrib import messages

from carts import services
from carts.models import MAX_LINE_QUANTITY, Cart
from carts.session import forget_session_cart, session_cart_id


def merge_session_cart(sender, request, user, **kwargs):
    """Merge the anonymous cart of the request's session into the user's cart.

    The page that follows says what changed: lines added, lines capped at
    the stock on hand, lines dropped. An empty or vanished session cart
    changes nothing and says nothing.
    """
    cart_id = session_cart_id(request)
    if cart_id is None:
        return
    source = services.get_session_cart(cart_id=cart_id)
    if source is not None:
        target = services.get_user_cart(user=user)
        try:
            result = services.merge_carts(source=source, target=target)
        except Cart.DoesNotExist:
            # The account's cart was deleted meanwhile (the account with it).
            return
        for level, text in merge_messages(result):
            messages.add_message(request, level, text, fail_silently=True)
    forget_session_cart(request)


def merge_token_cart(sender, user, cart_token, **kwargs):
    """Merge the guest's anonymous cart (its Cart-Token) into the user's cart,
    as the pages merge the session's (accounts.signals.api_login)."""
    source = services.get_token_cart(token=cart_token)
    if source is None:
        return
    try:
        services.merge_carts(source=source, target=services.get_user_cart(user=user))
    except Cart.DoesNotExist:
        return  # the account's cart was deleted meanwhile (the account with it)


def merge_messages(result):
    """What a MergeResult changed, as (level, sentence) pairs for the shopper."""
    said = []
    if result.added:
        lines = ", ".join(
            f"{line.quantity} \N{MULTIPLICATION SIGN} {line.product.name}"
            for line in result.added
        )
        said.append(
            (messages.SUCCESS, f"Your cart is now in your account: {lines} added.")
        )
    for line in result.capped:
        name, kept, requested = line.product.name, line.kept, line.requested
        if kept < line.variant.stock:
            why = f"a cart holds at most {MAX_LINE_QUANTITY} of one product"
        else:
            why = f"only {kept} in stock"
        said.append(
            (
                messages.WARNING,
                f"{name}: {why}, so your cart holds {kept} instead of {requested}.",
            )
        )
    for line in result.dropped:
        if line.reason == "out_of_stock":
            why = "it is out of stock"
        else:
            why = "it is no longer for sale"
        said.append(
            (
                messages.WARNING,
                f"{line.product.name} was not added to your cart: {why}.",
            )
        )
    return said
