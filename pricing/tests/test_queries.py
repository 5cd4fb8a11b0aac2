"""pricing.queries reads a country's rules as the models hold them: proved
against plain ORM reads of the same rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Category
from catalog.tests.factories import CategoryFactory, ProductFactory
from pricing.models import Promotion, ShippingMethod, TaxRate
from pricing.queries import rules_for
from pricing.tests.factories import method_data, shipping_zone

pytestmark = pytest.mark.django_db


def test_the_rules_are_the_rows_the_orm_reads(django_assert_num_queries):
    shipping_zone(
        "UK",
        ["GB", "IE"],
        [
            method_data("courier", price=Decimal("9.00"), max_weight=30000),
            method_data("post", price=Decimal("3.50"), free_above=Decimal("40")),
        ],
    )
    shipping_zone("US", ["US"], [method_data("usps")])
    TaxRate.objects.create(country="GB", rate=Decimal("20.00"))
    TaxRate.objects.create(country="GB", tax_class="books", rate=Decimal("0.00"))
    TaxRate.objects.create(country="FR", rate=Decimal("20.00"))
    kitchen = CategoryFactory()
    mugs = CategoryFactory(parent=kitchen)
    mug = ProductFactory()
    week = Promotion.objects.create(
        name="Kitchen week", kind="percentage", value=Decimal("12.5")
    )
    week.categories.add(kitchen)
    week.products.add(mug)
    Promotion.objects.create(
        name="Three for two",
        kind="buy_x_pay_y",
        buy_quantity=3,
        pay_quantity=2,
        stackable=True,
    )
    Promotion.objects.create(name="Off", kind="fixed", value=1, is_active=False)
    Promotion.objects.create(
        name="Over",
        kind="fixed",
        value=1,
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(days=1),
    )
    now = timezone.now()

    # The rules, and the category tree for the promotion naming categories.
    with django_assert_num_queries(2):
        rules = rules_for("GB", now=now)

    expected = ShippingMethod.objects.filter(zone__countries__contains=["GB"])
    assert [
        (m.pk, m.zone_id, m.code, m.name, m.price, m.free_above, m.max_weight)
        for m in rules.methods
    ] == [
        (m.pk, m.zone_id, m.code, m.name, m.price, m.free_above, m.max_weight)
        for m in expected
    ]
    assert rules.tax_rates == dict(
        TaxRate.objects.filter(country="GB").values_list("tax_class", "rate")
    )
    in_force = Promotion.objects.in_force(now).order_by("starts_at", "id")
    assert [promotion.name for promotion in rules.promotions] == [
        promotion.name for promotion in in_force
    ]
    first, second = rules.promotions
    assert (first.kind, first.value, first.product_ids) == (
        "percentage",
        Decimal("12.50"),
        frozenset({mug.pk}),
    )
    assert first.category_ids == Category.objects.subtree_ids(kitchen.pk)
    assert mugs.pk in first.category_ids
    assert (second.buy, second.pay, second.stackable) == (3, 2, True)


def test_a_country_without_rules_has_none(django_assert_num_queries):
    with django_assert_num_queries(1):
        rules = rules_for("JP", now=timezone.now())

    assert (list(rules.methods), rules.tax_rates, list(rules.promotions)) == (
        [],
        {},
        [],
    )
