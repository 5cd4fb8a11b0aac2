"""Automatic promotions: the rule when several apply, in the pure pipeline, and
the same figures from cart to order, with the admin's count of uses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from orders import services as order_services
from orders.emails import send_order_confirmation
from orders.tests.conftest import client_for
from orders.tests.factories import address, fill_cart
from pricing import pipeline
from pricing.models import Promotion
from pricing.pipeline import Line, PromotionTerms, ShippingRate, VoucherTerms

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
FREE = ShippingRate(Decimal("0.00"))


def line(key, unit_price, quantity=1, *, product=None, category=1):
    return Line(
        key=key,
        unit_price=Decimal(unit_price),
        quantity=quantity,
        product_id=product or key,
        category_id=category,
        tax_class="standard",
    )


def promotion(id, kind, value="0", **fields):
    return PromotionTerms(
        id=id, name=f"Promo {id}", kind=kind, value=Decimal(value), **fields
    )


def priced(lines, *promotions, voucher=None):
    return pipeline.price(
        lines,
        shipping=FREE,
        tax_rates={},
        prices_include_tax=False,
        round_tax_per_line=True,
        voucher=voucher,
        promotions=promotions,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("terms", "quantity", "off"),
    [
        (promotion(1, "percentage", "10"), 3, "3.00"),
        (promotion(1, "fixed", "1.50"), 3, "4.50"),
        (promotion(1, "buy_x_pay_y", buy=3, pay=2), 3, "10.00"),
        (promotion(1, "buy_x_pay_y", buy=3, pay=2), 7, "20.00"),
        (promotion(1, "buy_x_pay_y", buy=3, pay=2), 2, "0.00"),
        # Never more than the line costs.
        (promotion(1, "fixed", "15.00"), 2, "20.00"),
    ],
)
def test_each_kind_takes_its_discount_off_the_line(terms, quantity, off):
    breakdown = priced([line(1, "10.00", quantity)], terms)

    assert breakdown.discount == Decimal(off)
    assert breakdown.total == Decimal("10.00") * quantity - Decimal(off)


def test_of_two_promotions_the_best_for_the_shopper_applies_not_both():
    ten_percent = promotion(1, "percentage", "10")
    two_off_each = promotion(2, "fixed", "2.00")

    breakdown = priced([line(1, "10.00", 3)], ten_percent, two_off_each)

    assert breakdown.discount == Decimal("6.00")
    assert [applied.id for applied in breakdown.promotions] == [2]


def test_a_stackable_promotion_adds_to_the_best_one():
    ten_percent = promotion(1, "percentage", "10")
    five_percent = promotion(2, "percentage", "5")
    stackable = promotion(3, "fixed", "1.00", stackable=True)

    breakdown = priced([line(1, "10.00", 2)], ten_percent, five_percent, stackable)

    assert breakdown.discount == Decimal("4.00")  # 2.00 + 2 x 1.00
    assert {applied.id for applied in breakdown.promotions} == {1, 3}


def test_a_promotion_covers_its_categories_and_products_only():
    mugs = promotion(1, "percentage", "50", category_ids=frozenset({7}))

    breakdown = priced(
        [line(1, "10.00", category=7), line(2, "10.00", category=8)], mugs
    )

    assert [priced_line.discount for priced_line in breakdown.lines] == [
        Decimal("5.00"),
        Decimal("0.00"),
    ]


def test_a_voucher_discounts_what_the_promotions_left():
    half = promotion(1, "percentage", "50")
    ten_percent = VoucherTerms(
        code="TEN",
        kind="percentage",
        value=Decimal("10"),
        min_subtotal=None,
        starts_at=NOW - timedelta(days=1),
        ends_at=None,
    )

    breakdown = priced([line(1, "20.00")], half, voucher=ten_percent)

    # 20.00 - 10.00 (promotion) - 1.00 (10 % of the 10.00 left).
    assert (breakdown.promotion_discount, breakdown.discount, breakdown.total) == (
        Decimal("10.00"),
        Decimal("11.00"),
        Decimal("9.00"),
    )
    assert breakdown.discount_names == "Promo 1, TEN"


# --- Through the store ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_cart_shows_a_promotion_and_the_order_keeps_it(settings):
    mugs = CategoryFactory(name="Mugs")
    mug = ProductFactory(price=Decimal("10.00"), stock=9, category=mugs)
    week = Promotion.objects.create(
        name="Mug week", kind="buy_x_pay_y", buy_quantity=3, pay_quantity=2
    )
    week.categories.add(mugs)
    Promotion.objects.create(
        name="Over",
        kind="percentage",
        value=Decimal("50"),
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(days=1),
    )
    customer = fill_cart_for_customer(mug, 3)

    cart = client_for(customer).get("/api/v1/cart/").json()
    order = order_services.place_order(
        user=customer,
        shipping_address=address(),
        expected_total=Decimal(cart["total"]),
    ).order

    assert (cart["discount"], cart["items"][0]["discount"]) == ("10.00", "10.00")
    assert order.discount_total == Decimal("10.00")
    assert list(order.promotions.all()) == [week]
    assert order.discount_names == "Mug week"


def fill_cart_for_customer(product, quantity):
    customer = UserFactory()
    fill_cart(customer, (product, quantity))
    return customer


@pytest.mark.django_db
def test_staff_see_how_many_orders_each_promotion_took_something_off(clerk_client):
    mug = ProductFactory(price=Decimal("10.00"), stock=9)
    Promotion.objects.create(name="Everything 10 %", kind="percentage", value=10)
    order_services.place_order(
        user=fill_cart_for_customer(mug, 1), shipping_address=address()
    )

    page = clerk_client.get("/admin/pricing/promotion/")

    assert page.status_code == 200
    assert '<td class="field-times_used">1</td>' in page.content.decode()


@pytest.mark.django_db
def test_a_buy_x_pay_y_promotion_needs_more_bought_than_paid(clerk_client):
    response = clerk_client.post(
        "/admin/pricing/promotion/add/",
        {
            "name": "Odd",
            "kind": "buy_x_pay_y",
            "value": "0",
            "buy_quantity": "2",
            "pay_quantity": "3",
            "starts_at_0": "2026-12-01",
            "starts_at_1": "00:00:00",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "Give how many to buy" in response.content.decode()
    assert not Promotion.objects.exists()


@pytest.mark.django_db
def test_the_confirmation_names_the_promotion_reading_it_once(
    django_assert_num_queries,
):
    mug = ProductFactory(price=Decimal("10.00"), stock=9)
    Promotion.objects.create(name="Mug week", kind="percentage", value=10)
    order = order_services.place_order(
        user=fill_cart_for_customer(mug, 1), shipping_address=address()
    ).order

    # The order, its lines, its history, its promotions.
    with django_assert_num_queries(4):
        send_order_confirmation(order.pk)

    assert "Discount (Mug week): -1.00 USD" in mail.outbox[-1].body
