"""The data migrations that give every existing product its default variant.

Its movements, cart lines and order lines then name that variant.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from core.testing import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("catalog", "0013_search_fill_vectors"),
    ("carts", "0002_index_anonymous_carts_by_update"),
    ("orders", "0002_payment_awaiting_the_gateway"),
]
AFTER = [
    ("catalog", "0015_variants_default_variants"),
    ("carts", "0005_variants_cart_item_variant_required"),
    ("orders", "0004_variants_order_lines_default_variant"),
]


@pytest.fixture
def old_catalog(latest_schema_afterwards):
    """The models as migration 0013 left them."""
    return migrate(BEFORE)


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


def test_cart_and_order_lines_name_the_default_variant(old_catalog):
    Category = old_catalog.get_model("catalog", "Category")
    Product = old_catalog.get_model("catalog", "Product")
    Cart = old_catalog.get_model("carts", "Cart")
    CartItem = old_catalog.get_model("carts", "CartItem")
    Order = old_catalog.get_model("orders", "Order")
    OrderItem = old_catalog.get_model("orders", "OrderItem")
    category = Category.objects.create(name="Mugs", slug="mugs")
    mug = Product.objects.create(
        sku="MUG-1",
        name="Mug",
        slug="mug",
        price=Decimal("8.00"),
        stock=5,
        category=category,
    )
    # The accounts app is not migrated back: its rows are today's.
    user_id = UserFactory().pk
    line = CartItem.objects.create(
        cart=Cart.objects.create(user_id=user_id), product=mug, quantity=2
    )
    order = Order.objects.create(
        number="SW-0000-0001",
        user_id=user_id,
        subtotal=Decimal("8.00"),
        shipping_cost=Decimal("0.00"),
        total=Decimal("8.00"),
        currency="EUR",
        shipping_address={},
    )
    sold = OrderItem.objects.create(
        order=order,
        product=mug,
        sku="MUG-1",
        name="Mug",
        unit_price=Decimal("8.00"),
        quantity=1,
        line_total=Decimal("8.00"),
    )
    gone = OrderItem.objects.create(
        order=order,
        product=None,
        sku="GONE-1",
        name="Gone",
        unit_price=Decimal("1.00"),
        quantity=1,
        line_total=Decimal("1.00"),
    )

    apps = migrate(AFTER)

    variant = apps.get_model("catalog", "ProductVariant").objects.get()
    assert apps.get_model("carts", "CartItem").objects.get(pk=line.pk).variant_id == (
        variant.pk
    )
    items = apps.get_model("orders", "OrderItem").objects
    assert (items.get(pk=sold.pk).variant_id, items.get(pk=sold.pk).options) == (
        variant.pk,
        "",
    )
    assert items.get(pk=gone.pk).variant_id is None
