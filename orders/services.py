"""Checkout, the order lifecycle and payments: every write to an order.

The API, the pages, the admin and the commands all call these functions;
nothing else changes an order's status or takes or returns its stock.

Locks, always taken in this order so that no two of these can deadlock:

1. the customer's cart row (checkout only), which makes one customer's
   checkouts, and retries of one checkout, run one after the other;
2. the order row (lifecycle, payments, expiry), so that a payment, a
   cancellation and the expiry job cannot act on the same order at once,
   and a second cancellation sees the first and restores nothing; a payment
   holds it to record its attempt and then the gateway's answer, never
   while the gateway is called (pay_order);
3. variant rows, in variant id order, then their product rows, in product
   id order, taken by catalog.services' stock functions, which check the
   locked figures before they change them;
4. the voucher's row (checkout with a voucher: pricing.services.redeem_voucher),
   so that of the checkouts racing for its last use one gets it.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Self

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.addresses import (
    CONTROL_MESSAGE,
    clean_address,
    has_control_characters,
)
from accounts.models import User, normalize_email
from carts import services as cart_services
from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock
from catalog.models import StockMovement, options_text
from core import metrics
from orders import access, emails, events
from orders.exceptions import (
    CartEmpty,
    IdempotencyKeyReused,
    InvalidTransition,
    PaymentDeclined,
    PriceChanged,
)
from orders.models import (
    Order,
    OrderItem,
    OrderStatusChange,
    Payment,
    generate_order_number,
)
from orders.payments import ERROR, ChargeResult, PaymentGateway, get_gateway
from pricing import pipeline
from pricing import services as pricing_services
from pricing.exceptions import VoucherExhausted

logger = logging.getLogger(__name__)

Status = Order.Status
StockReason = StockMovement.Reason

ZERO = Decimal("0.00")
# The largest amount the order's Decimal(10, 2) columns hold.
MAX_AMOUNT = Decimal("99999999.99")
NOTE_MAX_LENGTH = 1000
IDEMPOTENCY_KEY_MAX_LENGTH = 100
# Attempts at a fresh order number when one drawn is already taken.
NUMBER_ATTEMPTS = 5
# A payment attempt awaiting the gateway's answer for longer than this has
# no process left to finish it (no request lives that long; gunicorn ends
# one after GUNICORN_TIMEOUT, 30 seconds by default), so it no longer holds
# its order. Whether it charged is then unknown: the gateway's records tell.
PAYMENT_ANSWER_TIMEOUT = timedelta(minutes=5)

# The lifecycle. Staff may make every move listed; a customer may only
# cancel their own pending order (and pay it, through pay_order).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.PENDING: (Status.PAID, Status.CANCELLED),
    Status.PAID: (Status.SHIPPED, Status.CANCELLED),
    Status.SHIPPED: (Status.DELIVERED,),
    Status.DELIVERED: (),
    Status.CANCELLED: (),
}


# --- Checkout -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedOrder:
    """What a checkout answers: the order, its lines and its status history.

    For a new order (`created`) the lines and history are the rows just
    written, so that an answer shows them without reading them back; for
    the order an idempotency key found, they are querysets read when used.
    """

    order: Order
    items: Collection[OrderItem]
    history: Collection[OrderStatusChange]
    created: bool

    @classmethod
    def found(cls, order: Order) -> Self:
        return cls(order, order.items.all(), order.history.all(), created=False)


def place_order(
    *,
    user: User | None,
    guest_cart_id: int | None = None,
    email: str = "",
    shipping_address: dict[str, str] | None = None,
    shipping_address_id: object = None,
    save_address: bool = False,
    shipping_method: str | None = None,
    note: str = "",
    expected_total: Decimal | None = None,
    idempotency_key: str = "",
) -> PlacedOrder:
    """Turn the user's cart, or a guest's (`user` None, the anonymous cart
    `guest_cart_id` and the guest's `email`), into a pending order.

    All or nothing, in one transaction: the stock of every line is taken,
    the order is created with a snapshot of each product (sku, name, unit
    price), its history starts with `pending`, the cart is emptied and the
    confirmation email is sent once it commits.

    - The address is `shipping_address`, or the address of the user's book
      whose id is `shipping_address_id` (one of them, not both); the order
      keeps its own copy. `save_address` keeps a typed address in the book
      (unless it is there already, or the book is full).
    - `shipping_method` is the code of one of the methods that ship to the
      address's country, needed when there are any; where none do, the
      store's flat rule applies and no method may be named.
    - An `idempotency_key` that names an order this user already placed
      returns that order untouched, with `created` False, when the request
      is the same (its cleaned address, note and expected total), and
      raises IdempotencyKeyReused when it is not. Refused checkouts are not
      remembered: the same key may be used again.
    - Raises CartEmpty, InsufficientStock (every short or inactive line,
      nothing taken, cart intact), PriceChanged (the total is not
      `expected_total`; nothing changed) or ValidationError (address, note,
      key, an order too large to record).
    """
    email = "" if user is not None else _clean_guest_email(email)
    address = _shipping_address(user, shipping_address, shipping_address_id)
    save_address = bool(save_address) and shipping_address_id is None
    save_address = save_address and user is not None
    shipping_method = (shipping_method or "").strip()
    note = _clean_note(note)
    key = _clean_idempotency_key(idempotency_key)
    expected_total = _clean_expected_total(expected_total)
    fingerprint = request_fingerprint(
        # A guest's address is part of the request (a customer's is theirs).
        **({"email": email} if email else {}),
        shipping_address=address,
        save_address=save_address,
        shipping_method=shipping_method or None,
        note=note,
        # 40.0 and 40.00 are one request.
        expected_total=None if expected_total is None else expected_total.normalize(),
    )
    # The lines are charged at the prices in force (a sale may just have
    # started or ended).
    catalog_services.ensure_sale_prices()
    for attempt in range(NUMBER_ATTEMPTS):
        number = generate_order_number()
        try:
            return _place_order(
                number=number,
                user=user,
                guest_cart_id=guest_cart_id,
                email=email,
                address=address,
                save_address=save_address,
                method_code=shipping_method,
                note=note,
                expected_total=expected_total,
                key=key,
                fingerprint=fingerprint,
            )
        except REFUSALS as error:
            # The attempt was rolled back whole, its stock with it. A cart
            # that is not empty is checked out without looking the key up
            # first (a statement on every checkout for a rare case): a key
            # this customer already used, with the cart filled again since,
            # ends here, refused by the unique constraint or by what the new
            # lines met, and answers with its order.
            if key and (replay := _order_for_key(user, email, key, fingerprint)):
                return PlacedOrder.found(replay)
            if isinstance(error, InsufficientStock | PriceChanged | VoucherExhausted):
                transaction.on_commit(
                    partial(metrics.record_checkout_conflict, error.code)
                )
                transaction.on_commit(events.checkout_conflict(user, error))
                raise
            # An order number drawn twice: another try with a new one.
            number_taken = isinstance(error, IntegrityError) and (
                Order.objects.filter(number=number).exists()
            )
            if not number_taken or attempt == NUMBER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# What ends an attempt at placing an order, rolled back whole.
REFUSALS = (
    InsufficientStock,
    PriceChanged,
    VoucherExhausted,
    ValidationError,
    IntegrityError,
)


# One transaction and no savepoint: a clash of order numbers is retried by
# place_order with a new transaction, which costs less than a SAVEPOINT and a
# RELEASE on every checkout for a clash that 40 random bits make rare.
@transaction.atomic
def _place_order(
    *,
    number: str,
    user: User | None,
    guest_cart_id: int | None,
    email: str,
    address: dict[str, str],
    save_address: bool,
    method_code: str,
    note: str,
    expected_total: Decimal | None,
    key: str,
    fingerprint: str,
) -> PlacedOrder:
    # The cart's row lock serialises this customer's checkouts: a retry that
    # raced its original waits here, then finds the cart it emptied.
    if user is not None:
        cart = cart_services.lock_lines_for_checkout(user=user)
    else:
        cart = cart_services.lock_lines_for_checkout(cart_id=guest_cart_id)
    lines = cart.lines
    email = email or cart.email
    if not lines:
        replay = _order_for_key(user, email, key, fingerprint) if key else None
        # Nothing changes: the cart's mark of a change is undone too.
        transaction.set_rollback(True)
        if replay is not None:
            return PlacedOrder.found(replay)
        raise CartEmpty()
    try:
        movements = catalog_services.take_stock(
            lines=[(line.variant_id, line.quantity) for line in lines],
            reason=StockReason.SALE,
            reference=number,
            user=user,
        )
    except InsufficientStock as error:
        # Name the cart lines too, as the cart's warnings do.
        item_of = {line.variant_id: line.item_id for line in lines}
        for shortage in error.extra["shortages"]:
            shortage["item"] = item_of.get(shortage["variant_id"])
        raise
    # The variants and products as take_stock left them, still locked: the
    # prices are the ones in force at the moment the stock was sold.
    variants = {movement.variant_id: movement.variant for movement in movements}
    option_names = catalog_services.option_names(
        product_ids=[
            variant.product_id
            for variant in variants.values()
            if variant is not None and variant.options
        ]
    )
    sold = []
    for line in lines:
        variant = variants[line.variant_id]
        assert variant is not None  # a movement just made names its variant
        sold.append(
            pipeline.Line(
                key=variant.pk,
                unit_price=variant.current_price,
                quantity=line.quantity,
                product_id=variant.product_id,
                category_id=variant.product.category_id,
                tax_class=variant.product.tax_class,
                weight=variant.weight or 0,
            )
        )
    rules = pricing_services.pricing_rules(address["country"])
    method = pricing_services.chosen_shipping_method(
        rules=rules,
        code=method_code,
        chosen_id=cart.shipping_method_id,
        weight=pipeline.weight_of(sold),
    )
    voucher = pricing_services.voucher_with_coverage(cart.voucher_id)
    priced = pricing_services.price_lines(
        sold, rules=rules, method=method, voucher=voucher
    )
    if priced.total > MAX_AMOUNT:
        raise ValidationError(
            f"An order can total at most {MAX_AMOUNT} {settings.STORE_CURRENCY}; "
            "split it into smaller orders."
        )
    if expected_total is not None and expected_total != priced.total:
        raise PriceChanged(
            expected_total=expected_total,
            breakdown=priced,
            currency=settings.STORE_CURRENCY,
        )
    applied = voucher if priced.voucher is not None else None
    if applied is not None:
        pricing_services.redeem_voucher(
            applied, order_number=number, user=user, email=email
        )
    order = Order.objects.create(
        number=number,
        user=user,
        email=email,
        subtotal=priced.subtotal,
        discount_total=priced.discount,
        shipping_cost=priced.shipping_cost,
        tax_total=priced.tax,
        prices_include_tax=priced.prices_include_tax,
        total=priced.total,
        currency=settings.STORE_CURRENCY,
        voucher=applied,
        voucher_code=applied.code if applied else "",
        shipping_address=address,
        shipping_method_code=method.code if method else "",
        shipping_method_name=method.name if method else "",
        note=note,
        idempotency_key=key,
        idempotency_fingerprint=fingerprint if key else "",
    )
    items = []
    for priced_line in priced.lines:
        variant = variants[priced_line.line.key]
        assert variant is not None
        items.append(
            OrderItem(
                order=order,
                product=variant.product,
                variant=variant,
                sku=variant.sku,
                name=variant.product.name,
                options=options_text(
                    variant.options, option_names.get(variant.product_id, ())
                ),
                unit_price=priced_line.line.unit_price,
                quantity=priced_line.line.quantity,
                line_total=priced_line.total,
                discount=priced_line.discount,
                tax_rate=priced_line.tax_rate,
                tax=priced_line.tax,
            )
        )
    items = OrderItem.objects.bulk_create(items)
    if priced.promotions:
        Order.promotions.through.objects.bulk_create(
            Order.promotions.through(order=order, promotion_id=promotion.id)
            for promotion in priced.promotions
        )
    history = [
        OrderStatusChange.objects.create(order=order, status=Status.PENDING, by=user)
    ]
    cart_services.finish_checkout(cart=cart)
    if save_address and user is not None:
        account_services.save_shipping_address(user=user, fields=address)
    transaction.on_commit(
        partial(emails.send_order_confirmation.delay, order.pk), robust=True
    )
    transaction.on_commit(metrics.record_order_placed)
    transaction.on_commit(
        events.order_placed(
            order,
            items=sum(item.quantity for item in items),
            lines=len(items),
        )
    )
    return PlacedOrder(order, items, history, created=True)


def _order_for_key(
    user: User | None, email: str, key: str, fingerprint: str
) -> Order | None:
    """The order this user (or this guest, by e-mail) placed with `key`, if any.

    Raises IdempotencyKeyReused when it was placed by another request.
    """
    orders = (
        Order.objects.filter(user=user)
        if user is not None
        else Order.objects.of_guests().filter(email=email)
    )
    order = orders.filter(idempotency_key=key).first()
    if order is not None and order.idempotency_fingerprint not in ("", fingerprint):
        raise IdempotencyKeyReused()
    return order


def request_fingerprint(**cleaned: object) -> str:
    """The SHA-256 of a checkout's cleaned request, keys in order."""
    text = json.dumps(cleaned, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _clean_guest_email(email: str) -> str:
    """A guest's address: where the order's e-mails go, and who may claim it."""
    email = normalize_email(email)
    if not email:
        raise ValidationError({"email": "Give your e-mail address."})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid e-mail address."}) from None
    return email


def _shipping_address(
    user: User | None, typed: dict[str, str] | None, saved_id: object
) -> dict[str, str]:
    """The checked address to ship to: typed, or a copy of a saved one."""
    if typed is not None and saved_id is not None:
        raise ValidationError(
            {
                "shipping_address_id": "Give an address or the id of a saved one, "
                "not both."
            }
        )
    if saved_id is None:
        if typed is None:
            raise ValidationError({"shipping_address": "This field is required."})
        return _clean_address(typed)
    if user is None:
        raise ValidationError(
            {"shipping_address_id": "Log in to use your address book."}
        )
    try:
        saved = account_services.saved_address(user=user, pk=saved_id)
    except ValidationError as error:
        raise ValidationError({"shipping_address_id": error.messages}) from None
    try:
        return clean_address(saved.as_shipping_address())
    except ValidationError as error:
        # Saved under older rules (a postal code format learnt since).
        raise ValidationError(
            {
                "shipping_address_id": "This saved address needs a change before "
                "it can be used: "
                + " ".join(
                    f"{field.replace('_', ' ')}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                )
            }
        ) from None


def _clean_address(data: dict[str, str] | None) -> dict[str, str]:
    try:
        return clean_address(data)
    except ValidationError as error:
        errors: dict[str, list[str]] = {}
        for field, messages in error.message_dict.items():
            name = field if field == "shipping_address" else f"shipping_address.{field}"
            errors[name] = messages
        raise ValidationError(errors) from None


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": f"Use at most {NOTE_MAX_LENGTH} characters."})
    # Lines and tabs are a note's own; other control characters are not text.
    if has_control_characters(note, multiline=True):
        raise ValidationError({"note": CONTROL_MESSAGE})
    return note


def _clean_idempotency_key(key: str) -> str:
    key = key or ""
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not (
        key.isascii() and key.isprintable()
    ):
        raise ValidationError(
            {
                "Idempotency-Key": "Use at most "
                f"{IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."
            }
        )
    return key.strip()


def _clean_expected_total(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise ValidationError({"expected_total": "Enter an amount such as 19.99."})
    return amount


# --- The lifecycle --------------------------------------------------------------------


def allowed_transitions(*, order: Order, user: User | None) -> tuple[str, ...]:
    """The statuses this user (None: the guest holding the order's link) may
    move the order to now (payment aside)."""
    if user is not None and user.is_staff:
        return TRANSITIONS[order.status]
    if is_owner(order, user) and order.status == Status.PENDING:
        return (Status.CANCELLED,)
    return ()


@transaction.atomic
def cancel_order(*, order: Order, user: User | None, note: str = "") -> Order:
    """Cancel an order and put its stock back, exactly once.

    The customer may cancel their own pending order (`user` None: the guest
    holding a guest order's link, orders.access); staff may also cancel a
    paid one (refunding the payment is done with the gateway, outside the
    store). Raises InvalidTransition otherwise, and while a payment of the
    order awaits the gateway's answer.
    """
    locked = _lock(order)
    if user is None or not user.is_staff:
        _check_owner(locked, user)
        if locked.status != Status.PENDING:
            raise InvalidTransition(
                f"Order {locked.number} is {locked.get_status_display().lower()}: "
                "only a pending order can be cancelled by you. Contact us to "
                "cancel it.",
                status=locked.status,
            )
    if locked.status == Status.PENDING:
        _check_not_being_paid(locked)
    _move(locked, Status.CANCELLED, by=user, note=note)
    return locked


@transaction.atomic
def mark_order_paid(*, order: Order, user: User, note: str = "") -> Order:
    """Staff: record a payment received outside the gateway (a bank transfer).

    The order becomes paid by a manual approved payment of its full total,
    recorded with the staff member, so every paid order has its payment.
    Refused (InvalidTransition) while a payment through the gateway awaits
    its answer.
    """
    _check_staff(user)
    locked = _lock(order)
    _check_move(locked, Status.PAID)
    _check_not_being_paid(locked)
    payment = Payment.objects.create(
        order=locked,
        amount=locked.total,
        currency=locked.currency,
        gateway="manual",
        outcome=Payment.Outcome.APPROVED,
        message=note[:200] or f"Marked paid by {user.email}",
        by=user,
    )
    _move(
        locked,
        Status.PAID,
        by=user,
        note=note or "Payment received (manual)",
        payment=payment,
    )
    transaction.on_commit(partial(metrics.record_payment, approved=payment.approved))
    return locked


def change_order_status(
    *, order: Order, status: str, user: User, note: str = ""
) -> Order:
    """Staff: move an order along the lifecycle (the API's PATCH, the admin).

    Paid records a manual payment (mark_order_paid); cancelled restores the
    stock (cancel_order). Raises InvalidTransition for any other move than
    pending → paid/cancelled, paid → shipped/cancelled, shipped → delivered.
    """
    _check_staff(user)
    if status not in Status.values:
        raise ValidationError({"status": f"{status!r} is not an order status."})
    if status == Status.PAID:
        return mark_order_paid(order=order, user=user, note=note)
    if status == Status.CANCELLED:
        return cancel_order(order=order, user=user, note=note)
    with transaction.atomic():
        locked = _lock(order)
        _move(locked, status, by=user, note=note)
    return locked


def expire_unpaid_orders(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    on_expired: Callable[[Order], object] | None = None,
) -> list[Order]:
    """Cancel the pending orders older than ORDER_PAYMENT_TIMEOUT_MINUTES.

    Their stock goes back with the reason `expiry`. Each order is expired in
    a transaction of its own, so the job can stop and run again at any
    point; an order being paid at that moment (its row locked, or a payment
    awaiting the gateway's answer) is skipped and looked at again on the
    next run. With `dry_run`, return the orders that would expire and change
    nothing. `on_expired(order)` is called after each order's transaction
    commits.
    """
    minutes = settings.ORDER_PAYMENT_TIMEOUT_MINUTES
    cutoff = (now or timezone.now()) - timedelta(minutes=minutes)
    due = Order.objects.unpaid_since(cutoff)
    if dry_run:
        return list(due.select_related("user"))
    expired = []
    for order_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .filter(pk=order_id, status=Status.PENDING, created_at__lt=cutoff)
                .first()
            )
            if order is None or _payment_in_flight(order):
                continue  # paid, cancelled or being paid since the list was read
            _move(
                order,
                Status.CANCELLED,
                by=None,
                note=f"Not paid within {minutes} minutes",
                stock_reason=StockReason.EXPIRY,
            )
        expired.append(order)
        if on_expired is not None:
            on_expired(order)
    return expired


def _lock(order: Order) -> Order:
    """Lock the order's row and return it as it is now."""
    return Order.objects.select_for_update().get(pk=order.pk)


def _check_staff(user: User) -> None:
    if not user.is_staff:
        raise PermissionDenied("Only staff can change an order's status.")


def is_owner(order: Order, user: User | None) -> bool:
    """Whether `user` placed the order; None stands for the guest holding a
    guest order's link (the caller has checked it: orders.access)."""
    return order.user_id == (None if user is None else user.pk)


def _check_owner(order: Order, user: User | None) -> None:
    if not is_owner(order, user):
        raise PermissionDenied("This is not your order.")


def _payment_in_flight(order: Order) -> bool:
    """Whether a payment of this locked order awaits the gateway's answer."""
    return order.payments.filter(
        outcome=Payment.Outcome.PROCESSING,
        created_at__gt=timezone.now() - PAYMENT_ANSWER_TIMEOUT,
    ).exists()


def _check_not_being_paid(order: Order) -> None:
    if _payment_in_flight(order):
        raise InvalidTransition(
            f"A payment of order {order.number} is being processed: try again "
            "in a moment.",
            status=order.status,
        )


def _check_move(order: Order, status: str) -> None:
    if status not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            f"Order {order.number} is {order.status}: it cannot become {status}.",
            status=order.status,
        )


def _move(
    order: Order,
    status: str,
    *,
    by: User | None,
    note: str = "",
    stock_reason: str = StockReason.CANCELLATION,
    payment: Payment | None = None,
) -> OrderStatusChange:
    """Change a locked order's status, record it, and on cancel restore its
    stock and give back its voucher use."""
    _check_move(order, status)
    previous = order.status
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    change = OrderStatusChange.objects.create(
        order=order, status=status, by=by, note=note[:200]
    )
    if status == Status.CANCELLED:
        lines = order.items.filter(variant__isnull=False).values_list(
            "variant_id", "quantity"
        )
        catalog_services.return_stock(
            lines=list(lines), reason=stock_reason, reference=order.number, user=by
        )
        if order.voucher_code:
            # A cancelled order does not count against the voucher's limits.
            pricing_services.release_voucher(order_number=order.number)
    transaction.on_commit(
        partial(emails.send_order_status_email.delay, change.pk), robust=True
    )
    transaction.on_commit(
        events.status_changed(
            order,
            previous=previous,
            by=by,
            note=note,
            payment=payment,
        )
    )
    return change


# --- Payments -------------------------------------------------------------------------


def pay_order(
    *, order: Order, user: User | None, payment_method: str, card_number: str
) -> Order:
    """Charge the order's total through the configured gateway.

    Only the customer who placed the order may pay it, and only while it is
    pending (else InvalidTransition). The attempt is recorded first as a
    Payment awaiting the gateway's answer (the card's last four digits
    only); the gateway is called with no lock held; its answer is then
    recorded on the attempt, and an approved charge of the full total marks
    the order paid. Raises PaymentDeclined when the gateway declines or
    fails, ValidationError for a bad method or card number (nothing is
    charged or recorded).

    While an attempt awaits its answer it holds the order: a second payment,
    a cancellation and staff marking it paid are refused (InvalidTransition),
    and the expiry job passes it by, so an order is never charged twice and
    no charge lands on an order cancelled meanwhile. An attempt left waiting
    longer than PAYMENT_ANSWER_TIMEOUT (its process died) holds it no more,
    and stays recorded as processing for staff to check with the gateway.
    """
    gateway = get_gateway()
    card = gateway.validate(payment_method=payment_method, card_number=card_number)
    attempt = _start_payment(order=order, user=user, gateway=gateway, card=card)
    try:
        result = gateway.charge(
            amount=attempt.amount,
            currency=attempt.currency,
            card_number=card,
            reference=attempt.order.number,
        )
    except Exception:
        logger.exception(
            "Payment gateway %s failed for order %s",
            gateway.name,
            attempt.order.number,
        )
        result = ChargeResult(ERROR, "", "The payment could not be processed.")
    return _finish_payment(attempt=attempt, result=result, user=user)


@transaction.atomic
def _start_payment(
    *, order: Order, user: User | None, gateway: PaymentGateway, card: str
) -> Payment:
    """Record an attempt at paying the order, once the order may be paid now."""
    locked = _lock(order)
    _check_owner(locked, user)
    if locked.status != Status.PENDING:
        raise InvalidTransition(
            f"Order {locked.number} is {locked.status}: only a pending order "
            "can be paid.",
            status=locked.status,
        )
    # The order's lock makes this check-then-create safe: whoever locks it
    # next sees this attempt.
    _check_not_being_paid(locked)
    return Payment.objects.create(
        order=locked,
        amount=locked.total,
        currency=locked.currency,
        gateway=gateway.name,
        outcome=Payment.Outcome.PROCESSING,
        card_last4=gateway.card_last4(card),
        by=user,
    )


def _finish_payment(
    *, attempt: Payment, result: ChargeResult, user: User | None
) -> Order:
    """Record the gateway's answer on the attempt; mark the order paid if approved."""
    with transaction.atomic():
        locked = _lock(attempt.order)
        attempt.outcome = result.outcome
        attempt.reference = result.reference[:100]
        attempt.message = result.message[:200]
        attempt.save(update_fields=["outcome", "reference", "message"])
        approved_in_full = (
            attempt.approved
            and attempt.amount == locked.total
            and attempt.currency == locked.currency
        )
        paid = approved_in_full and locked.status == Status.PENDING
        if paid:
            _move(
                locked,
                Status.PAID,
                by=user,
                note=f"Payment {attempt.reference}",
                payment=attempt,
            )
        transaction.on_commit(
            partial(metrics.record_payment, approved=attempt.approved)
        )
        if not approved_in_full:
            transaction.on_commit(events.payment_declined(locked, attempt))
    if paid:
        return locked
    if approved_in_full:
        # Only an attempt that outlived PAYMENT_ANSWER_TIMEOUT finds its order
        # moved on: its charge stays recorded, approved, to be refunded.
        logger.error(
            "Payment %s of order %s approved after the order became %s: refund it",
            attempt.reference,
            locked.number,
            locked.status,
        )
        raise InvalidTransition(
            f"Order {locked.number} became {locked.status} while your payment "
            "was processed: the charge will be refunded.",
            status=locked.status,
        )
    raise PaymentDeclined(result.message or None, outcome=attempt.outcome)


# --- Guest orders ---------------------------------------------------------------------


def guest_orders_to_claim(*, user: User) -> int:
    """How many orders were placed as a guest with the user's address."""
    return Order.objects.of_guest(user.email).count()


def ask_to_claim_guest_orders(*, user: User) -> None:
    """E-mail the user the link that adds those orders to their account: the
    address's owner proves they read it before any order moves."""
    transaction.on_commit(partial(emails.send_claim_link.delay, user.pk), robust=True)


@transaction.atomic
def claim_guest_orders(*, user: User, token: str) -> int:
    """Add the guest orders of the address a claim link proves the user reads
    to their account; return how many. ValidationError for a bad link."""
    email = access.claimed_email(token, user=user)
    if email is None:
        raise ValidationError(
            "This link is not valid (any more): ask for a new one from your "
            "order history, logged in to the account it was sent for."
        )
    return Order.objects.of_guest(email).update(user=user, updated_at=timezone.now())
