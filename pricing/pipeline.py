"""What a cart or an order costs: one pipeline the cart, checkout and order share.

Pure functions on Decimal, no database: lines at the prices in force (a
sale's price is the line's unit price) → subtotal → each line's automatic
promotions (the best one for the shopper, plus those marked stackable) → the
voucher's discount on what is left, shared among the lines it covers →
shipping (the method's or the flat rule's
price, free above its threshold or with a free-shipping voucher) → tax per
line, by the line's tax class in the destination country → total:

    total = subtotal - discount + shipping_cost (+ tax, when prices exclude it)

Rounding: every amount is rounded to the cent, half up. An amount shared
among lines (a voucher's discount; the order's tax when it is rounded once
per order) goes to them in proportion, and the cents rounding leaves over go
to the lines with the largest remainders, first in order on a tie, so that
the lines always add up to the figure shown. Shipping is not taxed.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")

PERCENTAGE = "percentage"
FIXED = "fixed"
FREE_SHIPPING = "free_shipping"
BUY_X_PAY_Y = "buy_x_pay_y"


def to_cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent, half up (2.345 → 2.35)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def share(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `amount` (whole cents) among `weights` in proportion, to the cent.

    The parts add up to `amount` exactly: each gets its share rounded down,
    and the cents left go one each to the largest remainders (the first on
    a tie). All weights zero: the parts are zero.
    """
    total_weight = sum(weights, Decimal("0"))
    if not weights or total_weight <= 0 or amount == 0:
        return [ZERO for _ in weights]
    exact = [amount * weight / total_weight for weight in weights]
    parts = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    left = int((amount - sum(parts, ZERO)) / CENT)
    by_remainder = sorted(
        range(len(weights)), key=lambda index: (-(exact[index] - parts[index]), index)
    )
    for index in by_remainder[:left]:
        parts[index] += CENT
    return parts


@dataclass(frozen=True)
class Line:
    """A line to price: a variant at its price in force, times a quantity."""

    key: int
    unit_price: Decimal
    quantity: int
    product_id: int
    category_id: int
    tax_class: str
    # Grams a unit weighs (0: not known), for the methods' weight limits.
    weight: int = 0

    @property
    def total(self) -> Decimal:
        return to_cents(self.unit_price * self.quantity)


def weight_of(lines: Iterable[Line]) -> int:
    """What the lines weigh in grams (units of unknown weight count as 0)."""
    return sum(line.weight * line.quantity for line in lines)


@dataclass(frozen=True)
class VoucherTerms:
    """What a voucher gives and to which lines, as the pipeline needs it.

    `category_ids` hold the voucher's categories and their subcategories;
    with no products and no categories it covers every line.
    """

    code: str
    kind: str
    value: Decimal
    min_subtotal: Decimal | None
    starts_at: datetime
    ends_at: datetime | None
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()

    def covers(self, line: Line) -> bool:
        return covers(line, self.product_ids, self.category_ids)


def covers(
    line: Line, product_ids: frozenset[int], category_ids: frozenset[int]
) -> bool:
    """Whether a voucher or promotion limited to these products and categories
    (none of either: every line) takes something off `line`."""
    if not product_ids and not category_ids:
        return True
    return line.product_id in product_ids or line.category_id in category_ids


def voucher_problem(
    terms: VoucherTerms, lines: Iterable[Line], *, now: datetime
) -> str | None:
    """Why the voucher does not apply to these lines now, or None when it does."""
    lines = list(lines)
    if now < terms.starts_at:
        return "This voucher is not valid yet."
    if terms.ends_at is not None and now >= terms.ends_at:
        return "This voucher has expired."
    if not any(terms.covers(line) for line in lines):
        return "This voucher does not apply to anything in the cart."
    subtotal = sum((line.total for line in lines), ZERO)
    if terms.min_subtotal is not None and subtotal < terms.min_subtotal:
        return (
            f"This voucher needs a subtotal of at least {terms.min_subtotal}; "
            f"the cart's is {subtotal}."
        )
    return None


@dataclass(frozen=True)
class PromotionTerms:
    """An automatic promotion in force, as the pipeline reads it.

    `percentage`: `value` percent off the line; `fixed`: `value` off each
    unit; `buy_x_pay_y`: of every `buy` units of a line, only `pay` are paid
    (the same variant: "buy 3 pay 2"). With no products and no categories it
    covers every line; `category_ids` hold its categories' subtrees.
    """

    id: int
    name: str
    kind: str
    value: Decimal = ZERO
    buy: int = 0
    pay: int = 0
    stackable: bool = False
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()

    def covers(self, line: Line) -> bool:
        return covers(line, self.product_ids, self.category_ids)

    def discount_on(self, line: Line) -> Decimal:
        """What it takes off `line` (never more than the line costs)."""
        if not self.covers(line):
            return ZERO
        if self.kind == PERCENTAGE:
            off = to_cents(line.total * self.value / HUNDRED)
        elif self.kind == FIXED:
            off = to_cents(self.value * line.quantity)
        elif self.kind == BUY_X_PAY_Y and self.buy > self.pay >= 0:
            free_units = (line.quantity // self.buy) * (self.buy - self.pay)
            off = to_cents(line.unit_price * free_units)
        else:
            off = ZERO
        return min(off, line.total)


def promotion_discount(
    line: Line, promotions: Sequence[PromotionTerms]
) -> tuple[Decimal, tuple[PromotionTerms, ...]]:
    """The line's promotion discount and the promotions giving it.

    The rule: of the promotions that are not stackable, the one best for the
    shopper (the largest discount; the first on a tie); each stackable one
    adds to it; never more than the line costs.
    """
    offers = [
        (promotion.discount_on(line), promotion)
        for promotion in promotions
        if promotion.covers(line)
    ]
    applied = [
        (off, promotion) for off, promotion in offers if promotion.stackable and off > 0
    ]
    single = [(off, promotion) for off, promotion in offers if not promotion.stackable]
    best = max(single, key=lambda offer: offer[0], default=None)
    if best is not None and best[0] > 0:
        applied.insert(0, best)
    total = min(sum((off for off, _ in applied), ZERO), line.total)
    return total, tuple(promotion for _, promotion in applied)


@dataclass(frozen=True)
class ShippingRate:
    """A price for shipping an order, free at or above a subtotal (None: never)."""

    price: Decimal
    free_above: Decimal | None = None

    def cost_for(self, subtotal: Decimal) -> Decimal:
        if self.free_above is not None and subtotal >= self.free_above:
            return ZERO
        return to_cents(self.price)


@dataclass(frozen=True)
class PricedLine:
    line: Line
    total: Decimal
    discount: Decimal
    tax_rate: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount: Decimal
    shipping_cost: Decimal
    tax: Decimal
    total: Decimal
    prices_include_tax: bool
    # The voucher applied, or None (none on the cart, or it does not apply).
    voucher: VoucherTerms | None
    # The promotions that took something off a line, and how much in all
    # (part of `discount`).
    promotions: tuple[PromotionTerms, ...] = ()
    promotion_discount: Decimal = ZERO

    @property
    def discount_names(self) -> str:
        """What the discount is made of, as shoppers read it."""
        names = [promotion.name for promotion in self.promotions]
        if self.voucher is not None:
            names.append(self.voucher.code)
        return ", ".join(names)

    @property
    def tax_rates(self) -> tuple[Decimal, ...]:
        """The rates the lines are taxed at, highest first (none: no tax)."""
        return tax_rates_of(line.tax_rate for line in self.lines)


def tax_rates_of(rates: Iterable[Decimal]) -> tuple[Decimal, ...]:
    return tuple(sorted({rate for rate in rates if rate}, reverse=True))


def price(
    lines: Sequence[Line],
    *,
    shipping: ShippingRate,
    tax_rates: Mapping[str, Decimal],
    prices_include_tax: bool,
    round_tax_per_line: bool,
    voucher: VoucherTerms | None = None,
    promotions: Sequence[PromotionTerms] = (),
    now: datetime | None = None,
) -> Breakdown:
    """Price `lines` shipped at `shipping` to a country taxing at `tax_rates`.

    `tax_rates` maps a tax class to its percent in the destination country
    ("standard" for every class without its own; empty: no tax). `voucher`
    is applied when it applies to the lines at `now` (voucher_problem);
    `promotions` are those in force.
    """
    totals = [line.total for line in lines]
    subtotal = sum(totals, ZERO)
    if voucher is not None and (
        now is None or voucher_problem(voucher, lines, now=now) is not None
    ):
        voucher = None
    promoted = [promotion_discount(line, promotions) for line in lines]
    promotion_offs = [off for off, _ in promoted]
    applied_promotions = tuple(
        {promotion.id: promotion for _, used in promoted for promotion in used}.values()
    )
    left = [total - off for total, off in zip(totals, promotion_offs, strict=True)]
    discounts = [
        off + voucher_off
        for off, voucher_off in zip(
            promotion_offs, _voucher_discounts(lines, left, voucher), strict=True
        )
    ]
    discount = sum(discounts, ZERO)
    if not lines or (voucher is not None and voucher.kind == FREE_SHIPPING):
        # Nothing to ship, or shipped free.
        shipping_cost = ZERO
    else:
        shipping_cost = shipping.cost_for(subtotal - discount)
    rates = [_rate(tax_rates, line.tax_class) for line in lines]
    taxes = _taxes(
        [total - off for total, off in zip(totals, discounts, strict=True)],
        rates,
        prices_include_tax=prices_include_tax,
        per_line=round_tax_per_line,
    )
    tax = sum(taxes, ZERO)
    total = subtotal - discount + shipping_cost
    if not prices_include_tax:
        total += tax
    return Breakdown(
        lines=tuple(
            PricedLine(line, *figures)
            for line, *figures in zip(
                lines, totals, discounts, rates, taxes, strict=True
            )
        ),
        subtotal=subtotal,
        discount=discount,
        shipping_cost=shipping_cost,
        tax=tax,
        total=total,
        prices_include_tax=prices_include_tax,
        voucher=voucher,
        promotions=applied_promotions,
        promotion_discount=sum(promotion_offs, ZERO),
    )


def _voucher_discounts(
    lines: Sequence[Line], totals: Sequence[Decimal], voucher: VoucherTerms | None
) -> list[Decimal]:
    """Each line's part of the voucher's discount (zero where it does not
    cover), on `totals`: what the lines cost after their promotions."""
    if voucher is None or voucher.kind == FREE_SHIPPING:
        return [ZERO for _ in lines]
    covered = [
        total if voucher.covers(line) else ZERO
        for line, total in zip(lines, totals, strict=True)
    ]
    base = sum(covered, ZERO)
    if voucher.kind == PERCENTAGE:
        amount = to_cents(base * voucher.value / HUNDRED)
    else:
        amount = to_cents(voucher.value)
    # Never more than the lines it covers cost.
    return share(min(amount, base), covered)


def _rate(tax_rates: Mapping[str, Decimal], tax_class: str) -> Decimal:
    rate = tax_rates.get(tax_class, tax_rates.get("standard"))
    return ZERO if rate is None else rate


def _taxes(
    amounts: Sequence[Decimal],
    rates: Sequence[Decimal],
    *,
    prices_include_tax: bool,
    per_line: bool,
) -> list[Decimal]:
    """The tax in (or on) each amount: rounded per line, or once per order."""
    exact = [
        amount * rate / (HUNDRED + rate)
        if prices_include_tax
        else amount * rate / HUNDRED
        for amount, rate in zip(amounts, rates, strict=True)
    ]
    if per_line:
        return [to_cents(value) for value in exact]
    return share(to_cents(sum(exact, Decimal("0"))), exact)
