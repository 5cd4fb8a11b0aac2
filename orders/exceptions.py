"""The orders' refusals, shown by the API as the contract's problem+json."""

from decimal import Decimal

from core.exceptions import ShopError
from pricing.pipeline import Breakdown


class CartEmpty(ShopError):
    status = 400
    code = "cart_empty"
    default_detail = "Your cart is empty: add something before checking out."


class PriceChanged(ShopError):
    """The total differs from the one the shopper was shown.

    The problem body carries the current figures, so a client can show them
    and ask again.
    """

    status = 409
    code = "price_changed"

    def __init__(
        self, *, expected_total: Decimal, breakdown: Breakdown, currency: str
    ) -> None:
        super().__init__(
            f"The order total is now {breakdown.total} {currency}, "
            f"not {expected_total}.",
            extra={
                "expected_total": str(expected_total),
                "subtotal": str(breakdown.subtotal),
                "discount_total": str(breakdown.discount),
                "shipping_cost": str(breakdown.shipping_cost),
                "tax_total": str(breakdown.tax),
                "total": str(breakdown.total),
                "currency": currency,
            },
        )


class IdempotencyKeyReused(ShopError):
    """The Idempotency-Key names an order placed by a different request."""

    status = 422
    code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used for a checkout with a different "
        "request; send a new key for a new checkout."
    )


class InvalidTransition(ShopError):
    """The order's status does not allow this change (or not for this user)."""

    status = 409
    code = "invalid_transition"

    def __init__(self, detail: str, *, status: str) -> None:
        super().__init__(detail, extra={"order_status": status})


class PaymentDeclined(ShopError):
    """The gateway did not approve the payment; the order stays pending."""

    status = 402
    code = "payment_declined"
    default_detail = "The payment was declined. Try another card."

    def __init__(self, detail: str | None = None, *, outcome: str) -> None:
        super().__init__(detail, extra={"outcome": outcome})
