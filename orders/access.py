"""A guest's order read without an account: a signed token names it; and the
signed link that lets a customer claim the guest orders of their address.

The checkout's answer (`access_token`), the confirmation page and e-mail
carry it; the API reads it from the `Order-Token` header, the pages from the
link's `token`. Signed with the site's SECRET_KEY under a salt of its own,
valid GUEST_ORDER_LINK_DAYS.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing

from accounts.models import User
from orders.models import Order

SALT = "orders.guest-order-access"
CLAIM_SALT = "orders.claim-guest-orders"


def access_token(order: Order) -> str:
    """The token that reads `order` (a guest's) without logging in."""
    return signing.dumps(order.number, salt=SALT)


def order_number_for(token: str) -> str | None:
    """The number of the order `token` names, or None for a bad or old token."""
    number = _read(token, salt=SALT, days=settings.GUEST_ORDER_LINK_DAYS)
    return number if isinstance(number, str) else None


def order_path(order: Order) -> str:
    """The order's page, signed for a guest: where they pay and follow it."""
    path = order.get_absolute_url()
    if order.user_id is None:
        path += "?" + urlencode({"token": access_token(order)})
    return path


def order_link(order: Order) -> str:
    """order_path as an e-mail links it: the store's whole address."""
    return settings.STORE_URL + order_path(order)


def claim_token(user: User) -> str:
    """A token proving `user` reads the mail of their account's address now."""
    return signing.dumps({"user": user.pk, "email": user.email}, salt=CLAIM_SALT)


def claimed_email(token: str, *, user: User) -> str | None:
    """The address a claim token proves `user` reads, or None: bad, old, for
    another user, or for an address the account no longer has."""
    claim = _read(token, salt=CLAIM_SALT, days=settings.GUEST_ORDER_CLAIM_DAYS)
    if not isinstance(claim, dict) or claim.get("user") != user.pk:
        return None
    email = claim.get("email")
    return email if email == user.email else None


def _read(token: str, *, salt: str, days: int) -> object:
    """What a token signed under `salt` holds, None when bad or older than `days`."""
    if not token or len(token) > 300:
        return None
    try:
        return signing.loads(token, salt=salt, max_age=days * 86400)
    except signing.BadSignature:
        return None
