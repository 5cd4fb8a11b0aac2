"""The orders' business events, each a log line of its own.

Every event is logged at INFO on the `shopswift.events` logger, once its
transaction has committed (orders.services schedules it with
`transaction.on_commit`, beside the metrics), so work rolled back is never
reported. The message reads as a sentence; the figures come as extra fields,
which the JSON log lines of production carry as keys: `event` names the
event, `order` is the order's number, `user_id` its customer, amounts are
strings such as "34.00".

Each function returns the callable that logs the event, with the figures
read when it is called: schedule it with `transaction.on_commit(...)`.
"""

import logging
from collections.abc import Callable
from functools import partial

from accounts.models import User
from catalog.exceptions import InsufficientStock
from orders.exceptions import PriceChanged
from orders.models import Order, Payment
from pricing.exceptions import VoucherExhausted

logger = logging.getLogger("shopswift.events")


def _log(event: str, message: str, **fields: object) -> None:
    logger.info(message, extra={"event": event, **fields})


def order_placed(order: Order, *, items: int, lines: int) -> Callable[[], None]:
    return partial(
        _log,
        "order_placed",
        f"Order {order.number} placed: {items} item{'s' if items != 1 else ''}, "
        f"{order.total} {order.currency}",
        order=order.number,
        user_id=order.user_id,
        total=str(order.total),
        currency=order.currency,
        items=items,
        lines=lines,
    )


def status_changed(
    order: Order,
    *,
    previous: str,
    by: User | None,
    note: str,
    payment: Payment | None = None,
) -> Callable[[], None]:
    """The event of a move along the lifecycle: paid, cancelled, or another."""
    fields: dict[str, object] = {
        "order": order.number,
        "user_id": order.user_id,
        "previous_status": previous,
        "status": order.status,
        "by_user_id": by.pk if by is not None else None,
    }
    if order.status == order.Status.PAID:
        return partial(
            _log,
            "order_paid",
            f"Order {order.number} paid: {order.total} {order.currency}",
            **fields,
            total=str(order.total),
            currency=order.currency,
            gateway=payment.gateway if payment is not None else None,
        )
    if order.status == order.Status.CANCELLED:
        if by is None:
            cancelled_by = "system"
        elif by.pk == order.user_id:
            cancelled_by = "customer"
        else:
            cancelled_by = "staff"
        return partial(
            _log,
            "order_cancelled",
            f"Order {order.number} cancelled by the {cancelled_by}"
            + (f": {note}" if note else ""),
            **fields,
            cancelled_by=cancelled_by,
            reason=note,
        )
    return partial(
        _log,
        "order_status_changed",
        f"Order {order.number} {previous} → {order.status}",
        **fields,
        note=note,
    )


def checkout_conflict(
    user: User | None, refusal: InsufficientStock | PriceChanged | VoucherExhausted
) -> Callable[[], None]:
    """A checkout refused: too little stock, a total that changed, or a
    voucher whose last use went to another order."""
    fields: dict[str, object] = {
        "user_id": None if user is None else user.pk,
        "reason": refusal.code,
    }
    if isinstance(refusal, InsufficientStock):
        products = [
            {
                "product_id": line.product_id,
                "sku": line.sku,
                "requested": line.requested,
                "available": line.available,
            }
            for line in refusal.shortages
        ]
        skus = ", ".join(line.sku or str(line.product_id) for line in refusal.shortages)
        return partial(
            _log,
            "checkout_conflict",
            f"Checkout refused, too little stock: {skus}",
            **fields,
            products=products,
        )
    return partial(
        _log,
        "checkout_conflict",
        f"Checkout refused: {refusal.detail}",
        **fields,
        expected_total=refusal.extra.get("expected_total"),
        total=refusal.extra.get("total"),
    )


def payment_declined(order: Order, payment: Payment) -> Callable[[], None]:
    return partial(
        _log,
        "payment_declined",
        f"Payment of order {order.number} {payment.outcome}: {payment.message}",
        order=order.number,
        user_id=order.user_id,
        amount=str(payment.amount),
        currency=payment.currency,
        gateway=payment.gateway,
        outcome=payment.outcome,
    )
