"""Migration 0019 fills `has_stock` for the products that exist."""

from decimal import Decimal

import pytest

from core.testing import migrate

pytestmark = pytest.mark.django_db(transaction=True)


def test_migration_0019_fills_has_stock_for_the_products_that_exist(
    latest_schema_afterwards,
):
    apps = migrate([("catalog", "0018_product_option_values")])
    Category = apps.get_model("catalog", "Category")
    Product = apps.get_model("catalog", "Product")
    category = Category.objects.create(name="Mugs", slug="mugs")
    for sku, stock in [("FULL", 4), ("EMPTY", 0)]:
        Product.objects.create(
            sku=sku,
            name=sku,
            slug=sku.lower(),
            price=Decimal("8.00"),
            stock=stock,
            category=category,
        )

    apps = migrate([("catalog", "0019_product_has_stock_facet_index")])
    # The previous release, still serving while this one migrates, writes
    # products without the new column: the trigger fills it.
    Product.objects.create(
        sku="OLD-CODE",
        name="Old code",
        slug="old-code",
        price=Decimal("8.00"),
        stock=2,
        category=category,
    )

    assert dict(
        apps.get_model("catalog", "Product").objects.values_list("sku", "has_stock")
    ) == {"FULL": True, "EMPTY": False, "OLD-CODE": True}
