"""Variants: option types, the variant services, and the product's aggregates."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog import services
from catalog.exceptions import InsufficientStock, LastVariant
from catalog.models import Product, ProductVariant, StockMovement
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SizedProductFactory,
    variant_of,
    variant_row,
)
from core.testing import race

pytestmark = pytest.mark.django_db

Reason = StockMovement.Reason


def figures(product):
    product = Product.objects.get(pk=product.pk)
    return product.price, product.stock


def test_a_product_made_without_variants_gets_one_default_variant():
    product = services.create_product(
        sku="MUG-1",
        name="Mug",
        category=CategoryFactory(),
        price=Decimal("8.00"),
        stock=4,
    )

    variant = product.variants.get()
    assert (variant.sku, variant.options, variant.price, variant.stock) == (
        "MUG-1",
        {},
        Decimal("8.00"),
        4,
    )
    assert (variant.is_active, variant.position, variant.compare_at_price) == (
        True,
        0,
        None,
    )
    assert list(StockMovement.objects.values_list("variant", "sku", "quantity")) == [
        (variant.pk, "MUG-1", 4)
    ]


def test_a_product_with_variants_shows_the_lowest_active_price_and_the_stock_sum():
    product = SizedProductFactory(sku="TEE")  # S 12.00 (3), M 10.00 (0), L 14.00 (5)

    assert figures(product) == (Decimal("10.00"), 8)
    assert [
        (v.sku, v.options, v.position) for v in product.variants.order_by("position")
    ] == [
        ("TEE-S", {"Size": "S"}, 0),
        ("TEE-M", {"Size": "M"}, 1),
        ("TEE-L", {"Size": "L"}, 2),
    ]


def test_deactivating_a_variant_leaves_it_out_of_the_aggregates():
    product = SizedProductFactory()
    medium = product.variants.get(sku__endswith="-M")

    services.update_variant(variant=medium, is_active=False)

    assert figures(product) == (Decimal("12.00"), 8)


def test_a_variant_price_change_moves_the_from_price():
    product = SizedProductFactory()
    large = product.variants.get(sku__endswith="-L")

    services.update_variant(variant=large, price=Decimal("9.50"))

    assert figures(product) == (Decimal("9.50"), 8)


def test_a_new_variant_joins_the_aggregates_with_an_initial_movement():
    product = SizedProductFactory(
        sku="CAP",
        option_types={"Size": ["S", "XL"]},
        variants=[variant_row("S", price="12.00", stock=3)],
    )

    variant = services.create_variant(
        product=product,
        sku="CAP-XL",
        options={"Size": "XL"},
        price=Decimal("11.00"),
        stock=6,
    )

    assert figures(product) == (Decimal("11.00"), 9)
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.product_id, movement.quantity, movement.reason) == (
        product.pk,
        6,
        Reason.INITIAL,
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"Size": "XXL"},
        {"Size": "S", "Colour": "Red"},
        {"Colour": "S"},
        {"Size": 3},
        ["S"],
    ],
)
def test_a_variant_must_name_exactly_the_products_option_types(options):
    product = SizedProductFactory(
        sku="HAT", variants=[variant_row("S", price="5.00", stock=1)]
    )

    with pytest.raises(ValidationError) as error:
        services.create_variant(
            product=product, sku="HAT-X", options=options, price=Decimal("5.00")
        )

    assert list(error.value.message_dict) == ["options"]
    assert product.variants.count() == 1


def test_two_variants_of_a_product_cannot_share_their_options():
    product = SizedProductFactory()

    with pytest.raises(ValidationError) as error:
        services.create_variant(
            product=product, sku="OTHER-M", options={"Size": "M"}, price=Decimal("5")
        )

    assert list(error.value.message_dict) == ["options"]


def test_a_variant_sku_is_unique_across_all_variants():
    ProductFactory(sku="TAKEN-1")
    product = SizedProductFactory(option_types={"Size": ["S", "M", "L", "XL"]})

    with pytest.raises(ValidationError) as error:
        services.create_variant(
            product=product, sku="TAKEN-1", options={"Size": "XL"}, price=Decimal("5")
        )

    assert error.value.message_dict == {"sku": [services.SKU_TAKEN]}


@pytest.mark.parametrize("compare_at", [Decimal("10.00"), Decimal("9.99")])
def test_a_compare_at_price_must_be_above_the_price(compare_at):
    product = ProductFactory(price=Decimal("10.00"))

    with pytest.raises(ValidationError) as error:
        services.update_variant(
            variant=variant_of(product), compare_at_price=compare_at
        )

    assert list(error.value.message_dict) == ["compare_at_price"]


def test_option_types_that_a_variant_no_longer_fits_are_refused():
    product = SizedProductFactory()

    with pytest.raises(ValidationError) as error:
        services.set_option_types(
            product=product, option_types=[{"name": "Size", "values": ["S", "L"]}]
        )

    assert list(error.value.message_dict) == ["option_types"]


def test_the_last_variant_of_a_product_cannot_be_deleted():
    product = ProductFactory()

    with pytest.raises(LastVariant):
        services.delete_variant(variant=variant_of(product))

    assert product.variants.count() == 1


def test_deleting_a_variant_keeps_its_movements_and_updates_the_aggregates():
    product = SizedProductFactory()
    small = product.variants.get(sku__endswith="-S")

    services.delete_variant(variant=small)

    assert figures(product) == (Decimal("10.00"), 5)
    assert StockMovement.objects.filter(sku=small.sku, variant=None).count() == 1


def test_the_price_of_a_single_variant_product_is_its_variants():
    product = ProductFactory(price=Decimal("3.00"), stock=2)

    services.update_product(product=product, price=Decimal("4.00"), stock=7)

    assert (variant_of(product).price, variant_of(product).stock) == (
        Decimal("4.00"),
        7,
    )
    assert figures(product) == (Decimal("4.00"), 7)


@pytest.mark.parametrize("field", ["price", "stock"])
def test_the_price_or_stock_of_a_product_with_variants_is_refused(field):
    product = SizedProductFactory()

    with pytest.raises(ValidationError) as error:
        services.update_product(product=product, **{field: 5})

    assert list(error.value.message_dict) == [field]


def test_a_new_product_sku_moves_the_default_variants_with_it():
    product = ProductFactory(sku="OLD-1")

    services.update_product(product=product, sku="NEW-1")

    assert variant_of(product).sku == "NEW-1"


def test_a_variants_stock_changes_only_through_the_services():
    variant = variant_of(ProductFactory(stock=3))
    variant.stock = 50

    with pytest.raises(ValueError, match=r"ProductVariant\.stock changes only through"):
        variant.save()


def test_selling_one_variant_leaves_the_others_stock_alone():
    product = SizedProductFactory()
    small = product.variants.get(sku__endswith="-S")
    large = product.variants.get(sku__endswith="-L")

    services.take_stock(lines=[(small.pk, 2)], reference="SW-1")

    small.refresh_from_db()
    large.refresh_from_db()
    assert (small.stock, large.stock) == (1, 5)
    assert figures(product) == (Decimal("10.00"), 6)


def test_an_inactive_variant_cannot_be_sold():
    product = SizedProductFactory()
    small = product.variants.get(sku__endswith="-S")
    services.update_variant(variant=small, is_active=False)

    with pytest.raises(InsufficientStock) as error:
        services.take_stock(lines=[(small.pk, 1)])

    assert error.value.shortages[0].is_active is False
    assert error.value.shortages[0].variant_id == small.pk


def test_set_variant_prices_by_percent_keeps_the_compare_at_price_above():
    product = SizedProductFactory()
    services.update_variant(
        variant=product.variants.get(sku__endswith="-S"),
        compare_at_price=Decimal("13.00"),
    )

    count = services.set_variant_prices(
        variants=product.variants.all(), percent=Decimal("10")
    )

    assert count == 3
    assert list(
        product.variants.order_by("position").values_list("price", "compare_at_price")
    ) == [
        (Decimal("13.20"), None),
        (Decimal("11.00"), None),
        (Decimal("15.40"), None),
    ]
    assert figures(product) == (Decimal("11.00"), 8)


@pytest.mark.django_db(transaction=True)
def test_the_last_unit_of_a_variant_is_never_oversold_while_another_sells():
    product = SizedProductFactory(
        sku="RACE",
        variants=[
            variant_row("S", price="5.00", stock=1),
            variant_row("M", price="5.00", stock=10),
        ],
    )
    small = product.variants.get(sku="RACE-S")
    medium = product.variants.get(sku="RACE-M")

    # Two shoppers race for the last small one while five buy a medium.
    results = race(
        [lambda: services.take_stock(lines=[(small.pk, 1), (medium.pk, 1)])] * 2
        + [lambda: services.take_stock(lines=[(medium.pk, 1)])] * 5
    )

    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(refused) == 1
    small.refresh_from_db()
    medium.refresh_from_db()
    assert (small.stock, medium.stock) == (0, 4)
    assert figures(product) == (Decimal("5.00"), 4)
    assert ProductVariant.objects.get(pk=small.pk).stock == sum(
        StockMovement.objects.filter(variant=small).values_list("quantity", flat=True)
    )
