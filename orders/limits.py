"""Checkout's limits: per customer (or per client IP for a guest), and for a
guest per e-mail address too, so that neither many addresses from one network
nor one address from many networks floods the store with orders.

The API and the pages count into the same counters (RATELIMIT_CHECKOUT,
RATELIMIT_GUEST_CHECKOUT_EMAIL).
"""

from accounts.models import normalize_email
from core.ratelimit import limit_request, limit_user

CHECKOUT_LIMIT = "RATELIMIT_CHECKOUT"
GUEST_BY_EMAIL = "orders.guest_checkout.email"


def limit_guest_checkout(request, email):
    """Count a guest's checkout per e-mail address (RateLimitExceeded past it)."""
    email = normalize_email(email) if isinstance(email, str) else ""
    if email:
        limit_request(
            request,
            group=GUEST_BY_EMAIL,
            setting="RATELIMIT_GUEST_CHECKOUT_EMAIL",
            key=lambda group, request: email,
            message="Too many orders for this e-mail address in a short time.",
        )


def limit_checkout(request, *, email=""):
    """Count a checkout page's order per customer (per IP for a guest), and a
    guest's per e-mail address."""
    limit_user(request, CHECKOUT_LIMIT, message="Too many checkouts in a short time.")
    if not request.user.is_authenticated:
        limit_guest_checkout(request, email)
