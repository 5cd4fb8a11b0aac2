"""The pricing pipeline on its own: lines, a voucher, shipping and tax to a total."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import pytest

from pricing.pipeline import (
    Line,
    ShippingRate,
    VoucherTerms,
    price,
    share,
    to_cents,
    voucher_problem,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
# 4.95, free from a subtotal (after the discount) of 50.00.
SHIPPING = ShippingRate(Decimal("4.95"), Decimal("50.00"))
FREE = ShippingRate(Decimal("0.00"))
ZERO = Decimal("0.00")


def line(key, unit_price, quantity=1, *, product=None, category=1, tax_class=None):
    """Line `key` of product `key` (unless given) in category 1, standard tax."""
    return Line(
        key=key,
        unit_price=Decimal(unit_price),
        quantity=quantity,
        product_id=key if product is None else product,
        category_id=category,
        tax_class=tax_class or "standard",
    )


def voucher(
    kind,
    value="0.00",
    *,
    min_subtotal=None,
    starts=-HOUR,
    ends=None,
    products=(),
    categories=(),
):
    """A voucher running from an hour before NOW (`starts`, `ends` from NOW)."""
    return VoucherTerms(
        code="TEST",
        kind=kind,
        value=Decimal(value),
        min_subtotal=None if min_subtotal is None else Decimal(min_subtotal),
        starts_at=NOW + starts,
        ends_at=None if ends is None else NOW + ends,
        product_ids=frozenset(products),
        category_ids=frozenset(categories),
    )


def rates(**percents):
    return {tax_class: Decimal(rate) for tax_class, rate in percents.items()}


class Figures(NamedTuple):
    subtotal: str
    discount: str
    shipping_cost: str
    tax: str
    total: str


def priced(
    lines,
    *,
    shipping=SHIPPING,
    tax_rates=None,
    included=False,
    per_line=True,
    terms=None,
):
    return price(
        lines,
        shipping=shipping,
        tax_rates=tax_rates or {},
        prices_include_tax=included,
        round_tax_per_line=per_line,
        voucher=terms,
        now=NOW,
    )


def figures_of(breakdown):
    return Figures(
        *(
            str(amount)
            for amount in (
                breakdown.subtotal,
                breakdown.discount,
                breakdown.shipping_cost,
                breakdown.tax,
                breakdown.total,
            )
        )
    )


# (arguments of priced(), the figures, each line's discount, each line's tax)
CASES = [
    pytest.param(
        {"lines": [line(1, "10.00", 2)], "tax_rates": rates(standard="8.25")},
        Figures("20.00", "0.00", "4.95", "1.65", "26.60"),
        ["0.00"],
        ["1.65"],
        id="tax-added-us-style",
    ),
    pytest.param(
        {
            "lines": [
                line(1, "20.00"),
                line(2, "10.00", tax_class="books"),
                line(3, "5.00", tax_class="toys"),  # no rate of its own
            ],
            "tax_rates": rates(standard="8.00", books="2.00"),
        },
        Figures("35.00", "0.00", "4.95", "2.20", "42.15"),
        ["0.00", "0.00", "0.00"],
        ["1.60", "0.20", "0.40"],
        id="tax-by-class-else-standard",
    ),
    pytest.param(
        {
            "lines": [line(1, "24.00")],
            "tax_rates": rates(standard="20.00"),
            "included": True,
        },
        Figures("24.00", "0.00", "4.95", "4.00", "28.95"),
        ["0.00"],
        ["4.00"],
        id="tax-included-eu-style",
    ),
    pytest.param(
        {
            "lines": [line(1, "19.99")],
            "tax_rates": rates(standard="19.00"),
            "included": True,
        },
        # 19.99 * 19 / 119 = 3.1917
        Figures("19.99", "0.00", "4.95", "3.19", "24.94"),
        ["0.00"],
        ["3.19"],
        id="tax-included-rounded-half-up",
    ),
    pytest.param(
        {"lines": [line(1, "12.00")]},
        Figures("12.00", "0.00", "4.95", "0.00", "16.95"),
        ["0.00"],
        ["0.00"],
        id="no-rate-no-tax",
    ),
    pytest.param(
        {
            "lines": [line(1, "0.05"), line(2, "0.05"), line(3, "0.05")],
            "shipping": FREE,
            "tax_rates": rates(standard="10.00"),
            "per_line": True,
        },
        # 0.005 a line, rounded half up on each line.
        Figures("0.15", "0.00", "0.00", "0.03", "0.18"),
        ["0.00", "0.00", "0.00"],
        ["0.01", "0.01", "0.01"],
        id="tax-rounded-per-line",
    ),
    pytest.param(
        {
            "lines": [line(1, "0.05"), line(2, "0.05"), line(3, "0.05")],
            "shipping": FREE,
            "tax_rates": rates(standard="10.00"),
            "per_line": False,
        },
        # 0.015 for the order, rounded once and shared, the first on a tie.
        Figures("0.15", "0.00", "0.00", "0.02", "0.17"),
        ["0.00", "0.00", "0.00"],
        ["0.01", "0.01", "0.00"],
        id="tax-rounded-per-order",
    ),
    pytest.param(
        {
            # 7.50 is the first product's sale price (10.00 before the sale).
            "lines": [line(1, "7.50", 4), line(2, "30.00")],
            "tax_rates": rates(standard="20.00"),
            "terms": voucher("percentage", "10.00"),
        },
        # 60.00 - 6.00 = 54.00: free shipping; tax on the discounted lines.
        Figures("60.00", "6.00", "0.00", "10.80", "64.80"),
        ["3.00", "3.00"],
        ["5.40", "5.40"],
        id="percentage-voucher-sale-price-and-free-shipping",
    ),
    pytest.param(
        {
            "lines": [line(1, "25.00", 2)],
            "terms": voucher("percentage", "10.00"),
        },
        # 50.00 - 5.00 = 45.00: below the free shipping threshold again.
        Figures("50.00", "5.00", "4.95", "0.00", "49.95"),
        ["5.00"],
        ["0.00"],
        id="percentage-voucher-below-free-shipping",
    ),
    pytest.param(
        {
            "lines": [line(1, "20.00"), line(2, "15.00")],
            "tax_rates": rates(standard="10.00"),
            "terms": voucher("fixed", "50.00", products=[1]),
        },
        Figures("35.00", "20.00", "4.95", "1.50", "21.45"),
        ["20.00", "0.00"],
        ["0.00", "1.50"],
        id="fixed-voucher-capped-at-the-lines-it-covers",
    ),
    pytest.param(
        {
            "lines": [line(1, "12.00"), line(2, "8.00")],
            "tax_rates": rates(standard="20.00"),
            "included": True,
            "terms": voucher("fixed", "25.00"),
        },
        Figures("20.00", "20.00", "4.95", "0.00", "4.95"),
        ["12.00", "8.00"],
        ["0.00", "0.00"],
        id="fixed-voucher-above-the-cart",
    ),
    pytest.param(
        {
            "lines": [line(1, "10.00"), line(2, "10.00"), line(3, "10.00")],
            "terms": voucher("fixed", "10.00"),
        },
        Figures("30.00", "10.00", "4.95", "0.00", "24.95"),
        ["3.34", "3.33", "3.33"],
        ["0.00", "0.00", "0.00"],
        id="fixed-voucher-shared-to-the-cent",
    ),
    pytest.param(
        {
            "lines": [
                line(1, "20.00", category=1),
                line(2, "30.00", category=2),
                line(3, "10.00", category=3),
            ],
            "terms": voucher("percentage", "25.00", categories=[1, 3]),
        },
        # 25 % of 30.00 covered, shared 20 : 10.
        Figures("60.00", "7.50", "0.00", "0.00", "52.50"),
        ["5.00", "0.00", "2.50"],
        ["0.00", "0.00", "0.00"],
        id="voucher-for-categories",
    ),
    pytest.param(
        {
            "lines": [line(1, "40.00"), line(2, "40.00")],
            "terms": voucher("percentage", "50.00", products=[2]),
        },
        Figures("80.00", "20.00", "0.00", "0.00", "60.00"),
        ["0.00", "20.00"],
        ["0.00", "0.00"],
        id="voucher-for-a-product",
    ),
    pytest.param(
        {
            "lines": [line(1, "20.00")],
            "tax_rates": rates(standard="10.00"),
            "terms": voucher("free_shipping"),
        },
        Figures("20.00", "0.00", "0.00", "2.00", "22.00"),
        ["0.00"],
        ["2.00"],
        id="free-shipping-voucher",
    ),
    pytest.param(
        {
            "lines": [line(1, "50.00")],
            "terms": voucher("percentage", "10.00", min_subtotal="50.00"),
        },
        Figures("50.00", "5.00", "4.95", "0.00", "49.95"),
        ["5.00"],
        ["0.00"],
        id="minimum-met-exactly",
    ),
]

NOT_APPLIED = [
    pytest.param(
        voucher("percentage", "10.00", min_subtotal="50.00"), id="minimum-not-met"
    ),
    pytest.param(
        voucher("percentage", "10.00", starts=-2 * HOUR, ends=-HOUR), id="expired"
    ),
    pytest.param(voucher("percentage", "10.00", ends=timedelta(0)), id="ended-now"),
    pytest.param(voucher("percentage", "10.00", starts=HOUR), id="not-started"),
    pytest.param(voucher("free_shipping", starts=HOUR), id="free-shipping-not-started"),
    pytest.param(voucher("fixed", "5.00", products=[99]), id="covers-no-line"),
]


@pytest.mark.parametrize(("arguments", "figures", "discounts", "taxes"), CASES)
def test_the_pipeline_prices_each_case_to_the_cent(
    arguments, figures, discounts, taxes
):
    breakdown = priced(**arguments)

    assert figures_of(breakdown) == figures
    assert [str(part.discount) for part in breakdown.lines] == discounts
    assert [str(part.tax) for part in breakdown.lines] == taxes
    assert breakdown.voucher == arguments.get("terms")


@pytest.mark.parametrize(("arguments", "figures", "discounts", "taxes"), CASES)
def test_the_figures_add_up_and_none_is_negative(arguments, figures, discounts, taxes):
    breakdown = priced(**arguments)

    added_tax = ZERO if breakdown.prices_include_tax else breakdown.tax
    assert (
        breakdown.subtotal - breakdown.discount + breakdown.shipping_cost + added_tax
        == breakdown.total
    )
    assert sum(part.total for part in breakdown.lines) == breakdown.subtotal
    assert sum(part.discount for part in breakdown.lines) == breakdown.discount
    assert sum(part.tax for part in breakdown.lines) == breakdown.tax
    assert all(
        Decimal(amount) >= 0 for amount in (*figures_of(breakdown), *discounts, *taxes)
    )
    assert all(part.discount <= part.total for part in breakdown.lines)


@pytest.mark.parametrize("terms", NOT_APPLIED)
def test_a_voucher_that_does_not_apply_changes_nothing(terms):
    lines = [line(1, "40.00")]

    breakdown = priced(lines, tax_rates=rates(standard="10.00"), terms=terms)

    assert breakdown.voucher is None
    assert figures_of(breakdown) == figures_of(
        priced(lines, tax_rates=rates(standard="10.00"))
    )
    assert figures_of(breakdown) == Figures("40.00", "0.00", "4.95", "4.00", "48.95")


def test_a_voucher_without_a_moment_is_not_applied():
    breakdown = price(
        [line(1, "40.00")],
        shipping=SHIPPING,
        tax_rates={},
        prices_include_tax=False,
        round_tax_per_line=True,
        voucher=voucher("percentage", "10.00"),
    )

    assert (breakdown.voucher, breakdown.discount) == (None, ZERO)


@pytest.mark.parametrize(
    "shipping",
    [
        pytest.param(FREE, id="free-shipping"),
        pytest.param(SHIPPING, id="priced-shipping"),
    ],
)
def test_no_lines_cost_nothing(shipping):
    breakdown = priced(
        [],
        shipping=shipping,
        tax_rates=rates(standard="20.00"),
        terms=voucher("fixed", "5.00"),
    )

    assert figures_of(breakdown) == Figures("0.00", "0.00", "0.00", "0.00", "0.00")
    assert breakdown.lines == ()


# --- Why a voucher does not apply -----------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        (voucher("percentage", "10.00"), None),
        (voucher("percentage", "10.00", starts=HOUR), "This voucher is not valid yet."),
        (
            voucher("percentage", "10.00", starts=-2 * HOUR, ends=-HOUR),
            "This voucher has expired.",
        ),
        (
            voucher("fixed", "5.00", categories=[7]),
            "This voucher does not apply to anything in the cart.",
        ),
        (
            voucher("fixed", "5.00", min_subtotal="40.01"),
            "This voucher needs a subtotal of at least 40.01; the cart's is 40.00.",
        ),
        (voucher("fixed", "5.00", min_subtotal="40.00"), None),
    ],
    ids=["applies", "not-yet", "expired", "not-applicable", "below-minimum", "minimum"],
)
def test_voucher_problem_says_why_it_does_not_apply(terms, problem):
    lines = [line(1, "15.00", category=1), line(2, "25.00", category=2)]

    assert voucher_problem(terms, lines, now=NOW) == problem


# --- Sharing an amount among lines ----------------------------------------------------


def cents(*amounts):
    return [Decimal(amount) for amount in amounts]


@pytest.mark.parametrize(
    ("amount", "weights", "parts"),
    [
        ("1.00", cents("1", "1", "1"), cents("0.34", "0.33", "0.33")),
        ("1.00", cents("1", "2"), cents("0.33", "0.67")),
        ("0.02", cents("1", "1", "1"), cents("0.01", "0.01", "0.00")),
        ("0.05", cents("1", "3"), cents("0.01", "0.04")),
        ("0.10", cents("3", "3", "4"), cents("0.03", "0.03", "0.04")),
        ("10.00", cents("0", "5"), cents("0.00", "10.00")),
        ("7.00", cents("0.005", "0.005", "0.005"), cents("2.34", "2.33", "2.33")),
        ("5.00", cents("0", "0"), cents("0.00", "0.00")),
        ("0.00", cents("1", "2"), cents("0.00", "0.00")),
        ("1.00", [], []),
    ],
    ids=[
        "thirds",
        "largest-remainder-first",
        "two-cents-first-on-a-tie",
        "largest-remainder-not-first",
        "exact",
        "zero-weight",
        "small-weights",
        "all-weights-zero",
        "nothing-to-share",
        "no-lines",
    ],
)
def test_share_splits_to_the_cent(amount, weights, parts):
    assert share(Decimal(amount), weights) == parts


def test_share_always_adds_up_and_each_part_is_within_a_cent_of_its_share():
    generator = random.Random(20260601)

    for _ in range(500):
        amount = Decimal(generator.randint(0, 100_000)) / 100
        weights = [
            Decimal(generator.randint(0, 50_000)) / 100
            for _ in range(generator.randint(1, 8))
        ]
        total_weight = sum(weights)

        parts = share(amount, weights)

        if total_weight == 0:
            assert all(part == 0 for part in parts)
            continue
        assert sum(parts) == amount
        for part, weight in zip(parts, weights, strict=True):
            assert part >= 0
            assert abs(part - amount * weight / total_weight) < Decimal("0.01")


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [("2.345", "2.35"), ("0.005", "0.01"), ("0.0049", "0.00"), ("19.999", "20.00")],
)
def test_to_cents_rounds_half_up(amount, rounded):
    assert str(to_cents(Decimal(amount))) == rounded
