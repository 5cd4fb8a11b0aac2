"""The data migration that gives every existing product its default variant."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0013_search_fill_vectors")]
AFTER = [("catalog", "0015_variants_default_variants")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_catalog():
    """The models as migration 0008 left them; the latest schema again after."""
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_every_product_gets_a_default_variant_holding_its_sku_price_and_stock(
    old_catalog,
):
    Category = old_catalog.get_model("catalog", "Category")
    Product = old_catalog.get_model("catalog", "Product")
    StockMovement = old_catalog.get_model("catalog", "StockMovement")
    category = Category.objects.create(name="Tea", slug="tea")
    green = Product.objects.create(
        sku="TEA-G",
        name="Green",
        slug="green",
        price=Decimal("4.50"),
        stock=7,
        category=category,
    )
    black = Product.objects.create(
        sku="TEA-B",
        name="Black",
        slug="black",
        price=Decimal("3.00"),
        stock=0,
        category=category,
        is_active=False,
    )
    for quantity, after in [(10, 10), (-3, 7)]:
        StockMovement.objects.create(
            product=green,
            sku="TEA-G",
            quantity=quantity,
            stock_after=after,
            reason="initial" if quantity > 0 else "sale",
        )
    StockMovement.objects.create(
        product=None, sku="GONE-1", quantity=2, stock_after=2, reason="initial"
    )

    apps = migrate(AFTER)

    Variant = apps.get_model("catalog", "ProductVariant")
    Movement = apps.get_model("catalog", "StockMovement")
    assert list(
        Variant.objects.order_by("sku").values_list(
            "product_id", "sku", "options", "price", "stock", "is_active", "position"
        )
    ) == [
        (black.pk, "TEA-B", {}, Decimal("3.00"), 0, True, 0),
        (green.pk, "TEA-G", {}, Decimal("4.50"), 7, True, 0),
    ]
    green_variant = Variant.objects.get(sku="TEA-G")
    assert list(Movement.objects.order_by("pk").values_list("sku", "variant_id")) == [
        ("TEA-G", green_variant.pk),
        ("TEA-G", green_variant.pk),
        ("GONE-1", None),
    ]


def test_the_ledger_reconciles_after_the_migration(old_catalog):
    Category = old_catalog.get_model("catalog", "Category")
    Product = old_catalog.get_model("catalog", "Product")
    StockMovement = old_catalog.get_model("catalog", "StockMovement")
    category = Category.objects.create(name="Mugs", slug="mugs")
    mug = Product.objects.create(
        sku="MUG-1",
        name="Mug",
        slug="mug",
        price=Decimal("8.00"),
        stock=5,
        category=category,
    )
    StockMovement.objects.create(
        product=mug, sku="MUG-1", quantity=5, stock_after=5, reason="initial"
    )
    migrate(AFTER)
    out = StringIO()

    call_command("reconcile_stock", stdout=out)

    assert "0 drifted" in out.getvalue().splitlines()[1]
