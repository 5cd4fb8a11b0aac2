"""A sale updates the product row in place: a HOT update, no index written.

pg_stat_xact_user_tables counts the current transaction's row updates, and
how many of them were heap-only (HOT), before anything is committed.
"""

from decimal import Decimal

import pytest
from django.db import connection

from catalog import services
from catalog.tests.factories import (
    ProductFactory,
    SizedProductFactory,
    variant_of,
    variant_row,
)

pytestmark = pytest.mark.django_db


def product_updates():
    """How many catalog_product rows this transaction updated, and how many HOT."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'catalog_product'"
        )
        updates, hot = cursor.fetchone()
    return {"updates": updates, "in place": hot}


def since(before):
    return {name: count - before[name] for name, count in product_updates().items()}


def test_the_product_table_leaves_room_on_its_pages():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'catalog_product'"
        )
        assert cursor.fetchone()[0] == ["fillfactor=90"]


def test_a_sale_updates_the_products_in_place():
    products = ProductFactory.create_batch(2, stock=10)
    before = product_updates()

    services.take_stock(lines=[(variant_of(product).pk, 1) for product in products])

    assert since(before) == {"updates": 2, "in place": 2}


def test_a_restock_updates_the_product_in_place():
    product = ProductFactory(stock=1)
    before = product_updates()

    services.adjust_stock(variant=variant_of(product), quantity=5)

    assert since(before) == {"updates": 1, "in place": 1}


def test_a_new_variant_writes_its_product_row_once():
    # Its price, stock, search terms and a new option value in one version
    # of the row: each version not in place costs every index an entry.
    shirt = SizedProductFactory(
        option_types={"Size": ["S", "L"]},
        variants=[variant_row("S", price="10.00", stock=1)],
    )
    before = product_updates()

    services.create_variant(
        product=shirt,
        sku="SHIRT-L",
        options={"Size": "L"},
        price=Decimal("12.00"),
        stock=1,
    )

    assert since(before)["updates"] == 1
    shirt.refresh_from_db()
    assert shirt.option_values == ['["Size", "L"]', '["Size", "S"]']
    assert shirt.stock == 2
