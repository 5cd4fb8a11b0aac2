"""What a cart or an order costs: one pipeline the cart, checkout and order share.

Pure functions on Decimal, no database: lines at the prices in force (a
sale's price is the line's unit price) → subtotal → the voucher's discount,
shared among the lines it covers → shipping (the method's or the flat rule's
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

    @property
    def total(self) -> Decimal:
        return to_cents(self.unit_price * self.quantity)


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
        if not self.product_ids and not self.category_ids:
            return True
        return line.product_id in self.product_ids or line.category_id in (
            self.category_ids
        )


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
    now: datetime | None = None,
) -> Breakdown:
    """Price `lines` shipped at `shipping` to a country taxing at `tax_rates`.

    `tax_rates` maps a tax class to its percent in the destination country
    ("standard" for every class without its own; empty: no tax). `voucher`
    is applied when it applies to the lines at `now` (voucher_problem).
    """
    totals = [line.total for line in lines]
    subtotal = sum(totals, ZERO)
    if voucher is not None and (
        now is None or voucher_problem(voucher, lines, now=now) is not None
    ):
        voucher = None
    discounts = _voucher_discounts(lines, totals, voucher)
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
    )


def _voucher_discounts(
    lines: Sequence[Line], totals: Sequence[Decimal], voucher: VoucherTerms | None
) -> list[Decimal]:
    """Each line's part of the voucher's discount (zero where it does not cover)."""
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
