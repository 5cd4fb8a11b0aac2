"""The carts' writes: lines added, changed and removed, carts merged and cleared.

Every write locks its cart's row first (`select_for_update`), so two writes
to one cart (two tabs, a double click, a merge at login) run one after the
other: each sees the line the other left, and quantities add up instead of
one overwriting the other. The unique (cart, variant) constraint backs the
one-line-per-variant rule in the database.

A cart reserves no stock. Its quantities are checked against the stock on
hand when they change, and `cart_warnings` tells, before checkout, which
lines the stock can no longer meet; the checkout takes the stock.
"""

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.addresses import COUNTRY_CODES, NOT_A_COUNTRY
from accounts.models import User
from carts.models import MAX_LINE_QUANTITY, Cart, CartItem
from catalog.exceptions import InsufficientStock, Shortage
from catalog.models import Product, ProductVariant
from pricing import pipeline
from pricing import services as pricing_services
from pricing.models import ShippingMethod

NOT_FOR_SALE = "This product is not for sale."
VARIANT_NOT_FOR_SALE = "This variant is not for sale."
CHOOSE_VARIANT = "This product comes in several variants: choose one."
QUANTITY_NOT_WHOLE = "Enter a whole number of at least 1."
TOKEN_MAX_LENGTH = 64


# --- Finding carts -----------------------------------------------------------------


def get_user_cart(*, user: User) -> Cart:
    """Return the user's cart, created empty on first use."""
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def create_session_cart() -> Cart:
    """Create an empty anonymous cart, whose id the shopper's session keeps."""
    return Cart.objects.create()


def get_session_cart(*, cart_id: int | str) -> Cart | None:
    """Return the anonymous cart with this id, or None when there is none.

    None also for a cart since deleted (merged at login, or cleared as
    stale) and for an id that is not a whole number, so a session holding
    an old or odd value simply starts a new cart.
    """
    if isinstance(cart_id, bool):
        return None
    try:
        cart_id = int(cart_id)
    except (TypeError, ValueError):
        return None
    return Cart.objects.anonymous().filter(pk=cart_id).first()


def create_token_cart() -> Cart:
    """Create an empty anonymous cart for an API client, found by its token."""
    return Cart.objects.create(token=secrets.token_urlsafe(32))


def get_token_cart(*, token: str) -> Cart | None:
    """Return the anonymous cart a Cart-Token names, or None.

    A token never finds a customer's cart: a cart merged at login is gone,
    and carts of accounts carry no token.
    """
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return Cart.objects.anonymous().filter(token=token).first()


# --- Changing lines ------------------------------------------------------------------


def sold_variant(*, product: Product) -> ProductVariant:
    """The variant a line of `product` stands for: its one active variant.

    Raises ValidationError on `variant` when it has several (the shopper
    must choose) and on `product` when it has none for sale.
    """
    variants = list(ProductVariant.objects.filter(product=product).active()[:2])
    if not variants or not product.is_active:
        raise ValidationError({"product": NOT_FOR_SALE}, code="inactive")
    if len(variants) > 1:
        raise ValidationError({"variant": CHOOSE_VARIANT}, code="required")
    return variants[0]


@transaction.atomic
def add_item(*, cart: Cart, variant: ProductVariant, quantity: int) -> CartItem:
    """Add units of a variant to the cart, on the variant's one line.

    The line's whole quantity (what it held plus `quantity`) is checked: at
    most 1000 and no more than the stock on hand (else InsufficientStock).
    Returns the line, its `cart` the locked and updated cart.
    """
    _check_quantity(quantity)
    cart = _lock(cart.pk)
    held = cart.items.filter(variant=variant).values_list("quantity", flat=True).first()
    total = (held or 0) + quantity
    _check_line(variant=variant, quantity=total)
    # The cart's lock makes this read-then-write safe: no other write to
    # this cart can add the same variant in between.
    item, _ = CartItem.objects.update_or_create(
        cart=cart, variant=variant, defaults={"quantity": total}
    )
    _touch(cart)
    return item


@transaction.atomic
def set_item_quantity(*, item: CartItem, quantity: int) -> CartItem:
    """Set a line's quantity, checked as add_item checks it.

    Raises CartItem.DoesNotExist when the line was removed meanwhile.
    """
    _check_quantity(quantity)
    cart = _lock(item.cart_id)
    item = CartItem.objects.select_related("variant").get(pk=item.pk, cart=cart)
    _check_line(variant=item.variant, quantity=quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity", "updated_at"])
    item.cart = cart
    _touch(cart)
    return item


@transaction.atomic
def remove_item(*, item: CartItem) -> None:
    """Remove a line from its cart (nothing happens if it is already gone)."""
    cart = _lock(item.cart_id)
    CartItem.objects.filter(pk=item.pk, cart=cart).delete()
    _touch(cart)


# No savepoint: nothing here can fail but the database, which fails the
# whole transaction anyway.
@transaction.atomic(savepoint=False)
def clear_cart(*, cart: Cart) -> None:
    """Remove every line of the cart."""
    # The update locks the cart's row, as every write does first, in the
    # statement that records the change.
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    CartItem.objects.filter(cart_id=cart.pk).delete()


# --- Prices -------------------------------------------------------------------------


@dataclass(frozen=True)
class CartPrice:
    """What a cart costs now, and for where.

    `shipping_method` is the one the shopper chose, while it ships to
    `country`; until then the cheapest method there prices the shipping.
    """

    breakdown: pipeline.Breakdown
    country: str
    shipping_method: ShippingMethod | None
    # The method the shipping is priced by: the chosen one, else the
    # cheapest to the country; None for the store's flat rule.
    shipping_by: ShippingMethod | None

    @property
    def missing_for_free_shipping(self) -> Decimal:
        """How much more the shopper must buy to ship free (0: free or never)."""
        breakdown = self.breakdown
        if not breakdown.shipping_cost:
            return pipeline.ZERO
        rate = (
            pricing_services.flat_rate()
            if self.shipping_by is None
            else (self.shipping_by.rate)
        )
        if rate.free_above is None:
            return pipeline.ZERO
        return max(
            rate.free_above - (breakdown.subtotal - breakdown.discount), pipeline.ZERO
        )

    @property
    def voucher_code(self) -> str | None:
        """The voucher's code while it applies to the cart, else None."""
        voucher = self.breakdown.voucher
        return None if voucher is None else voucher.code


def pricing_line(item: CartItem) -> pipeline.Line:
    """A cart line as the pricing pipeline reads it."""
    product = item.variant.product
    return pipeline.Line(
        key=item.pk,
        unit_price=item.variant.current_price,
        quantity=item.quantity,
        product_id=product.pk,
        category_id=product.category_id,
        tax_class=product.tax_class,
        weight=item.variant.weight or 0,
    )


def cart_price(*, cart: Cart) -> CartPrice:
    """Price a cart loaded with Cart.objects.with_lines()."""
    return price_cart(
        lines=[pricing_line(item) for item in cart.items.all()],
        country=cart.shipping_country,
        shipping_method_id=cart.shipping_method_id,
        voucher_id=cart.voucher_id,
    )


def price_cart(
    *,
    lines: Sequence[pipeline.Line],
    country: str,
    shipping_method_id: int | None,
    voucher_id: int | None,
) -> CartPrice:
    """Price a cart's lines for its country (the store's until it has one),
    by its chosen method (else the cheapest there) and with its voucher."""
    country = country or settings.STORE_COUNTRY
    rules = pricing_services.pricing_rules(country)
    offered = rules.methods_for(pipeline.weight_of(lines))
    chosen = next(
        (method for method in offered if method.pk == shipping_method_id), None
    )
    voucher = pricing_services.voucher_with_coverage(voucher_id)
    method = chosen or next(iter(offered), None)
    breakdown = pricing_services.price_lines(
        lines, rules=rules, method=method, voucher=voucher
    )
    return CartPrice(breakdown, country, chosen, method)


@transaction.atomic
def set_shipping(*, cart: Cart, country: str, method: str | None = None) -> Cart:
    """Say where the cart goes and how: `method` is the code of a method that
    ships to `country` (needed where any do; none where none do).

    Raises ValidationError naming `country` or `method`.
    """
    country = str(country or "").strip().upper()
    if country not in COUNTRY_CODES:
        raise ValidationError({"country": NOT_A_COUNTRY})
    items = CartItem.objects.with_product().filter(cart=cart)
    weight = pipeline.weight_of(pricing_line(item) for item in items)
    try:
        chosen = pricing_services.chosen_shipping_method(
            rules=pricing_services.pricing_rules(country), code=method, weight=weight
        )
    except ValidationError as error:
        raise ValidationError(
            {"method": error.message_dict["shipping_method"]}
        ) from None
    cart = _lock(cart.pk)
    cart.shipping_country = country
    cart.shipping_method = chosen
    cart.save(update_fields=["shipping_country", "shipping_method", "updated_at"])
    return cart


@transaction.atomic
def apply_voucher(*, cart: Cart, code: str, user: User | None = None) -> Cart:
    """Put the voucher with `code` on the cart, if it can be used on it now.

    Raises VoucherInvalid saying why not (unknown, not valid now, used up,
    used by this customer already, nothing in the cart it covers, below its
    minimum subtotal).
    """
    voucher = pricing_services.find_voucher(code)
    cart = _lock(cart.pk)
    items = CartItem.objects.with_product().filter(cart=cart)
    pricing_services.check_voucher(
        voucher,
        lines=[pricing_line(item) for item in items],
        user=user,
        email=user.email if user is not None else "",
    )
    cart.voucher = voucher
    cart.save(update_fields=["voucher", "updated_at"])
    return cart


@transaction.atomic
def remove_voucher(*, cart: Cart) -> Cart:
    cart = _lock(cart.pk)
    cart.voucher = None
    cart.save(update_fields=["voucher", "updated_at"])
    return cart


# --- Checkout ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutLine:
    """A line of a cart being checked out: which variant, and how many."""

    item_id: int
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class CheckoutCart:
    """A cart being checked out: its lines and what the shopper chose on it."""

    lines: list[CheckoutLine]
    cart_id: int = 0
    shipping_method_id: int | None = None
    voucher_id: int | None = None
    # The customer's e-mail address, read with the lines.
    email: str = ""


def lock_lines_for_checkout(
    *, user: User | None = None, cart_id: int | None = None
) -> CheckoutCart:
    """Lock the user's cart (or the anonymous cart `cart_id`) and its lines
    until the transaction ends.

    For a checkout, inside its transaction: the cart is marked as changed
    now and its lines come in variant id order, the order the checkout
    locks the variants in. No lines when there is no cart or an empty one.
    """
    carts = (
        Cart.objects.filter(user=user)
        if user is not None
        else Cart.objects.anonymous().filter(pk=cart_id or 0)
    )
    # The UPDATE that records the change takes the cart's row lock, as every
    # write to a cart does first, so no line is added or changed until the
    # checkout ends; rolled back with the checkout when it fails.
    if not carts.update(updated_at=timezone.now()):
        return CheckoutCart([])
    rows = list(
        CartItem.objects.select_for_update(of=("self",))
        .filter(cart__in=carts)
        .order_by("variant_id")
        .values_list(
            "pk",
            "variant_id",
            "quantity",
            "cart_id",
            "cart__shipping_method_id",
            "cart__voucher_id",
            "cart__user__email",
        )
    )
    if not rows:
        return CheckoutCart([])
    return CheckoutCart(
        lines=[
            CheckoutLine(item_id=item_id, variant_id=variant_id, quantity=quantity)
            for item_id, variant_id, quantity, *_ in rows
        ],
        cart_id=rows[0][3],
        shipping_method_id=rows[0][4],
        voucher_id=rows[0][5],
        email=rows[0][6] or "",
    )


def finish_checkout(*, cart: CheckoutCart) -> None:
    """Delete the lines a checkout sold and the voucher it used, in the cart
    it holds locked.

    The lines are every line of the cart: lock_lines_for_checkout read them
    all, and no write can add one while the cart is locked.
    """
    CartItem.objects.filter(pk__in=[line.item_id for line in cart.lines]).delete()
    if cart.voucher_id is not None:
        Cart.objects.filter(pk=cart.cart_id).update(voucher=None)


class CartWarning(TypedDict):
    """What would stop a checkout of one line now."""

    item: int  # the line's id
    code: Literal["insufficient_stock", "inactive"]
    available: int  # units for sale: none of an inactive product or variant


def cart_warnings(*, cart: Cart) -> list[CartWarning]:
    """List, per line, what would stop a checkout now (empty when nothing would).

    Reads `cart.items.all()`, so it costs no query on a cart loaded with
    `Cart.objects.with_lines()`.
    """
    warnings: list[CartWarning] = []
    for item in cart.items.all():
        variant = item.variant
        warning = line_warning(
            item_id=item.pk,
            quantity=item.quantity,
            is_active=variant.is_active and variant.product.is_active,
            stock=variant.stock,
        )
        if warning is not None:
            warnings.append(warning)
    return warnings


def line_warning(
    *, item_id: int, quantity: int, is_active: bool, stock: int
) -> CartWarning | None:
    """What would stop a checkout of one line now, as `cart_warnings` lists it."""
    if not is_active:
        return {"item": item_id, "code": "inactive", "available": 0}
    if quantity > stock:
        return {"item": item_id, "code": "insufficient_stock", "available": stock}
    return None


# --- Merging a session cart at login ------------------------------------------------


@dataclass(frozen=True)
class MergedLine:
    """A line of the anonymous cart that now sits in the account's cart.

    `quantity` is what the anonymous cart held, `requested` what the
    account's line would hold with it added, `kept` what it holds now
    (less than `requested` when capped at the stock on hand or at 1000).
    """

    variant: ProductVariant
    quantity: int
    requested: int
    kept: int

    @property
    def product(self) -> Product:
        return self.variant.product


@dataclass(frozen=True)
class DroppedLine:
    """A line of the anonymous cart that could not be merged.

    `reason` is "inactive" (no longer for sale) or "out_of_stock".
    """

    variant: ProductVariant
    quantity: int
    reason: str

    @property
    def product(self) -> Product:
        return self.variant.product


@dataclass(frozen=True)
class MergeResult:
    """What merge_carts changed, in the anonymous cart's line order.

    Every line of the anonymous cart is in exactly one of the three.
    """

    added: tuple[MergedLine, ...] = ()
    capped: tuple[MergedLine, ...] = ()
    dropped: tuple[DroppedLine, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.capped or self.dropped)


@transaction.atomic
def merge_carts(*, source: Cart, target: Cart) -> MergeResult:
    """Move the lines of `source` (a session cart) into `target`, then delete it.

    A variant in both carts gets one line with the quantities added. Each
    merged line is capped at the stock on hand (and at 1000); lines of
    variants no longer for sale or out of stock are dropped, and the
    target's own line of such a variant is left as it was. Returns what
    changed, so the shopper can be told. A source that no longer exists
    (merged by a concurrent login) merges nothing.
    """
    if source.pk == target.pk:
        raise ValueError("A cart cannot be merged into itself.")
    # Both carts are locked in id order, so two merges that share a cart
    # wait for each other instead of deadlocking.
    locked = {
        cart.pk: cart
        for cart in Cart.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    if target.pk not in locked:
        raise Cart.DoesNotExist(f"Cart {target.pk} does not exist.")
    if source.pk not in locked:
        return MergeResult()
    source, target = locked[source.pk], locked[target.pk]

    held = dict(target.items.values_list("variant_id", "quantity"))
    added: list[MergedLine] = []
    capped: list[MergedLine] = []
    dropped: list[DroppedLine] = []
    lines: list[CartItem] = []
    for item in source.items.with_product().order_by("created_at", "pk"):
        variant = item.variant
        for_sale = variant.is_active and variant.product.is_active
        if not for_sale or variant.stock == 0:
            reason = "inactive" if not for_sale else "out_of_stock"
            dropped.append(DroppedLine(variant, item.quantity, reason))
            continue
        requested = held.get(variant.pk, 0) + item.quantity
        kept = min(requested, variant.stock, MAX_LINE_QUANTITY)
        line = MergedLine(variant, item.quantity, requested, kept)
        (added if kept == requested else capped).append(line)
        lines.append(CartItem(cart=target, variant=variant, quantity=kept))
    if lines:
        # One statement: new lines inserted, lines already held updated.
        CartItem.objects.bulk_create(
            lines,
            update_conflicts=True,
            unique_fields=["cart", "variant"],
            update_fields=["quantity", "updated_at"],
        )
    source.delete()
    _touch(target)
    return MergeResult(added=tuple(added), capped=tuple(capped), dropped=tuple(dropped))


# --- Housekeeping --------------------------------------------------------------------


def delete_stale_carts(
    *, updated_before: datetime, batch_size: int = 1000
) -> Iterator[int]:
    """Delete anonymous carts not changed since `updated_before`, in batches.

    Each batch is its own transaction; yields the number of carts deleted
    in each. Account carts are never deleted.
    """
    while True:
        with transaction.atomic():
            # A cart being written now is locked by that write and skipped:
            # once it commits it is no longer stale.
            ids = list(
                Cart.objects.stale(updated_before=updated_before)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return
            Cart.objects.filter(pk__in=ids).delete()
        yield len(ids)


# --- Helpers --------------------------------------------------------------------------


def _lock(cart_id: int) -> Cart:
    """Lock the cart's row until the transaction ends; return it fresh."""
    return Cart.objects.select_for_update().get(pk=cart_id)


def _touch(cart: Cart) -> None:
    cart.save(update_fields=["updated_at"])


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError({"quantity": QUANTITY_NOT_WHOLE}, code="invalid")


def _check_line(*, variant: ProductVariant, quantity: int) -> None:
    """Refuse a line quantity that the variant cannot be sold in now."""
    # Read afresh: the caller's variant may be older than the last sale.
    live = (
        ProductVariant.objects.filter(pk=variant.pk)
        .values("product_id", "sku", "stock", "is_active", "product__is_active")
        .first()
    )
    if live is None or not live["product__is_active"]:
        raise ValidationError({"product": NOT_FOR_SALE}, code="inactive")
    if not live["is_active"]:
        raise ValidationError({"variant": VARIANT_NOT_FOR_SALE}, code="inactive")
    if quantity > MAX_LINE_QUANTITY:
        raise ValidationError(
            {
                "quantity": f"A cart holds at most {MAX_LINE_QUANTITY} of one "
                f"product; this line would hold {quantity}."
            },
            code="max_value",
        )
    if quantity > live["stock"]:
        raise InsufficientStock(
            [
                Shortage(
                    live["product_id"],
                    live["sku"],
                    quantity,
                    live["stock"],
                    variant_id=variant.pk,
                )
            ]
        )
