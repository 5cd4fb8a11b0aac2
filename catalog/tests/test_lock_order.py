"""Every catalog write locks rows in one order: variants, then products, by id.

A checkout's stock change locks its variants in id order, then their
products in id order (catalog.services._change). A write that waits for a
variant while it holds a product, or a variant of a higher id, can
deadlock with it. Each test here holds one row from this test's own
connection, runs a write in a thread (a connection of its own, committed:
transaction=True) until that write waits for the row, then asks a third
connection which rows the write holds: none may come after the row it
waits for.

A sale that started a moment ago and that no read has written yet leaves
the variants' sale prices stale; a write to a product writes them all
again, so it locks every variant of the product, not only the one it
changes.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from psycopg import errors

from catalog import services
from catalog.models import Product, ProductVariant, Sale
from catalog.product_csv import ProductRow
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SaleFactory,
    SizedProductFactory,
    variant_of,
    variant_row,
)

pytestmark = pytest.mark.django_db(transaction=True)

# A row as the lock order sees it: variants (False) before products (True).
type Row = tuple[bool, int]


def row(instance: Product | ProductVariant) -> Row:
    return (isinstance(instance, Product), instance.pk)


def waiting_for_a_lock() -> int:
    """How many other connections to this database wait for a lock now."""
    with connection.cursor() as cursor:
        # Read afresh: a transaction keeps its first reading of the view.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def locked_rows() -> set[Row]:
    """The variants and products whose rows another transaction holds now.

    Asked from a connection of its own, one row at a time, with NOWAIT: a
    row it can lock (and lets go of at once, in autocommit) is free.
    """
    probe = connection.get_new_connection(connection.get_connection_params())
    probe.autocommit = True
    held: set[Row] = set()
    try:
        for model in (ProductVariant, Product):
            table = connection.ops.quote_name(model._meta.db_table)
            column = connection.ops.quote_name(model._meta.pk.column)
            statement = f"SELECT 1 FROM {table} WHERE {column} = %s FOR UPDATE NOWAIT"
            for pk in model._base_manager.values_list("pk", flat=True):
                try:
                    probe.execute(statement, [pk])
                except errors.LockNotAvailable:
                    held.add((model is Product, pk))
    finally:
        probe.close()
    return held


def held_while_waiting_for(blocked: Product | ProductVariant, write) -> set[Row]:
    """The rows `write` holds once it waits for `blocked` (held here meanwhile).

    Fails if the write finishes without waiting for `blocked`: it must
    need that row for the test to say anything.
    """
    outcome: list[object] = []

    def run():
        try:
            outcome.append(write())
        except Exception as error:
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    with transaction.atomic():
        type(blocked)._base_manager.select_for_update().filter(
            pk=blocked.pk
        ).values_list("pk").get()
        thread.start()
        wait_until(lambda: waiting_for_a_lock() or not thread.is_alive())
        assert thread.is_alive(), f"the write did not wait for the row: {outcome}"
        held = locked_rows() - {row(blocked)}
    thread.join(30)
    assert not thread.is_alive(), "the write hung"
    assert not isinstance(outcome[0], Exception), outcome[0]
    return held


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.02)


def after(held: set[Row], blocked: Product | ProductVariant) -> list[Row]:
    """The rows of `held` that the lock order puts after `blocked`."""
    return sorted(each for each in held if each > row(blocked))


def stale_sale(**covered) -> Sale:
    """A sale on `covered` that has just started, its prices not yet written."""
    starts = timezone.now() + timedelta(seconds=1)
    sale = SaleFactory(starts_at=starts, **covered)
    time.sleep((starts - timezone.now()).total_seconds() + 0.05)
    return sale


@pytest.fixture
def tee():
    """S, M and L, in id order (XL not made); a sale on it that no one wrote yet."""
    tee = SizedProductFactory(option_types={"Size": ["S", "M", "L", "XL"]})
    stale_sale(products=[tee])
    return tee


def sized(tee, size):
    return tee.variants.get(options__Size=size)


# --- Each write, waiting for a row ----------------------------------------------------


def test_a_stock_change_holds_only_the_variants_before_the_one_it_waits_for(tee):
    small, large = sized(tee, "S"), sized(tee, "L")

    held = held_while_waiting_for(
        large, lambda: services.take_stock(lines=[(small.pk, 1), (large.pk, 1)])
    )

    assert held == {row(small)}


def test_a_category_change_locks_the_variants_before_the_product():
    tee = SizedProductFactory()
    on_sale = CategoryFactory()
    SaleFactory(categories=[on_sale])
    medium = sized(tee, "M")

    held = held_while_waiting_for(
        medium, lambda: services.update_product(product=tee, category=on_sale)
    )

    assert after(held, medium) == []


def test_a_variant_edit_locks_its_siblings_before_the_product(tee):
    small, medium = sized(tee, "S"), sized(tee, "M")

    held = held_while_waiting_for(
        medium, lambda: services.update_variant(variant=small, price=Decimal("9.00"))
    )

    assert after(held, medium) == []


def test_a_new_variant_locks_its_siblings_before_the_product(tee):
    medium = sized(tee, "M")

    held = held_while_waiting_for(
        medium,
        lambda: services.create_variant(
            product=tee, sku="TEE-XL", options={"Size": "XL"}, price=Decimal("15")
        ),
    )

    assert after(held, medium) == []


def test_a_deleted_variant_locks_its_siblings_before_the_product(tee):
    small, medium = sized(tee, "S"), sized(tee, "M")

    held = held_while_waiting_for(
        medium, lambda: services.delete_variant(variant=small)
    )

    assert after(held, medium) == []


def test_new_option_types_lock_the_default_variant_before_the_product():
    mug = ProductFactory()
    default = variant_of(mug)

    held = held_while_waiting_for(
        default,
        lambda: services.set_option_types(
            product=mug, option_types=[{"name": "Colour", "values": ["Red"]}]
        ),
    )

    assert after(held, default) == []


def test_a_bulk_reprice_locks_the_products_variants_in_id_order(tee):
    small, large = sized(tee, "S"), sized(tee, "L")

    held = held_while_waiting_for(
        small,
        lambda: services.set_variant_prices(
            variants=ProductVariant.objects.filter(pk=large.pk), price=Decimal("20")
        ),
    )

    assert after(held, small) == []


def test_bulk_activation_locks_the_products_in_id_order():
    first, second = ProductFactory(), ProductFactory()
    # An update moves the first product's row after the second's in the table,
    # where a scan of the table meets it last.
    services.adjust_stock(variant=variant_of(first), quantity=1)

    held = held_while_waiting_for(
        first,
        lambda: services.set_products_active(
            products=Product.objects.filter(pk__in=[first.pk, second.pk]),
            is_active=False,
        ),
    )

    assert after(held, first) == []


def import_row(product, line, **cells):
    return ProductRow(
        line=line,
        sku=product.sku,
        name=product.name,
        price=product.price,
        category=product.category.slug,
        **cells,
    )


def test_an_import_in_batches_locks_every_variant_in_id_order():
    first = SizedProductFactory(variants=[variant_row("S", price="5", stock=1)])
    second = ProductFactory()
    # The first product's second variant comes after the second's only one.
    services.create_variant(
        product=first, sku="LATER-M", options={"Size": "M"}, price=Decimal("6")
    )
    waited_for = variant_of(second)

    held = held_while_waiting_for(
        waited_for,
        lambda: services.import_products(
            rows=[import_row(first, 2), import_row(second, 3, stock=4)],
            batch_size=1,
        ),
    )

    assert after(held, waited_for) == []


def test_an_import_of_variants_locks_every_product_in_id_order():
    first, second = ProductFactory(), ProductFactory()
    waited_for = variant_of(first)

    # The file names the second product first.
    held = held_while_waiting_for(
        waited_for,
        lambda: services.import_products(
            rows=[
                import_row(
                    second, 2, variant_sku=second.sku, compare_at_price=Decimal("30")
                ),
                import_row(first, 3, variant_sku=first.sku, stock=7),
            ]
        ),
    )

    assert after(held, waited_for) == []


# --- The race itself ----------------------------------------------------------------


def test_a_variant_edit_racing_a_sale_of_its_sibling_does_not_deadlock(tee):
    small, medium, large = sized(tee, "S"), sized(tee, "M"), sized(tee, "L")
    results: dict[str, object] = {}

    def run(name, write):
        try:
            results[name] = write()
        except Exception as error:
            results[name] = error
        finally:
            connections.close_all()

    edit = threading.Thread(
        target=run,
        args=(
            "edit",
            lambda: services.update_variant(variant=small, price=Decimal("9")),
        ),
    )
    sale = threading.Thread(
        target=run,
        args=("sale", lambda: services.take_stock(lines=[(large.pk, 1)])),
    )
    # The medium size held here: the edit writes every sale price of the tee
    # again and waits for it; then a shopper buys the large size.
    with transaction.atomic():
        ProductVariant.objects.select_for_update().filter(pk=medium.pk).get()
        edit.start()
        wait_until(lambda: waiting_for_a_lock() == 1)
        sale.start()
        # The sale waits for a row the edit holds, or is through.
        wait_until(lambda: waiting_for_a_lock() == 2 or not sale.is_alive())
    edit.join(30)
    sale.join(30)

    assert not isinstance(results["edit"], Exception), results["edit"]
    assert not isinstance(results["sale"], Exception), results["sale"]
    assert ProductVariant.objects.get(pk=small.pk).price == Decimal("9.00")
    assert ProductVariant.objects.get(pk=large.pk).stock == large.stock - 1
