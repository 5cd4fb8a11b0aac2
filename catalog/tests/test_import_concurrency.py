"""An import racing a sale, on the real PostgreSQL (each thread its own connection)."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command

from catalog import services
from catalog.models import Product, ProductVariant, StockMovement
from catalog.tests.factories import ProductFactory, SizedProductFactory, variant_of
from core.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def import_racing_a_sale(monkeypatch, path, *, batch_writer, sku):
    """Import `path` while a sale of 2 units of the variant `sku` comes in.

    The import stops once it has read (and locked) its rows, before it
    writes its batch (`batch_writer`, the services' function); the sale
    then tries to land for half a second before the import goes on.
    Returns whether the sale waited for the import.
    """
    read, release, sold = threading.Event(), threading.Event(), threading.Event()
    write_batch = getattr(services, batch_writer)

    def write_when_released(*args):
        read.set()
        assert release.wait(10)
        write_batch(*args)

    monkeypatch.setattr(services, batch_writer, write_when_released)

    def sell():
        assert read.wait(10)
        variant = ProductVariant.objects.get(sku=sku)
        services.take_stock(lines=[(variant.pk, 2)], reference="SW-1")
        sold.set()

    def release_after_a_while():
        assert read.wait(10)
        waited = not sold.wait(0.5)
        release.set()
        return waited

    results = race(
        [
            lambda: call_command("import_products", str(path), stdout=StringIO()),
            sell,
            release_after_a_while,
        ]
    )
    assert results[:2] == [None, None]
    return results[2]


def test_a_sale_waits_for_an_import_that_has_read_its_stock(tmp_path, monkeypatch):
    product = ProductFactory(sku="MUG-1", stock=10)
    path = tmp_path / "stock.csv"
    path.write_text(
        "sku,name,price,category,stock\n"
        f"MUG-1,{product.name},{product.price},{product.category.slug},7\n"
    )

    waited = import_racing_a_sale(
        monkeypatch,
        path,
        batch_writer="_write_import_batch",
        sku=variant_of(product).sku,
    )

    assert waited is True  # the sale waited for the import
    assert Product.objects.get(pk=product.pk).stock == 5
    assert list(
        StockMovement.objects.order_by("pk").values_list(
            "reason", "quantity", "stock_after"
        )
    ) == [("initial", 10, 10), ("import", -3, 7), ("sale", -2, 5)]
    call_command("reconcile_stock", stdout=StringIO())


def test_a_sale_waits_for_a_variant_import_that_has_read_its_stock(
    tmp_path, monkeypatch
):
    tee = SizedProductFactory(sku="TEE")  # TEE-S: 3 units
    path = tmp_path / "variants.csv"
    path.write_text(
        "sku,name,category,variant_sku,options,price,stock\n"
        f"TEE,{tee.name},{tee.category.slug},TEE-S,Size=S,12.00,7\n"
    )

    waited = import_racing_a_sale(
        monkeypatch, path, batch_writer="_write_variant_batch", sku="TEE-S"
    )

    assert waited is True  # the sale waited for the import
    assert ProductVariant.objects.get(sku="TEE-S").stock == 5
    assert Product.objects.get(pk=tee.pk).stock == 10
    assert list(
        StockMovement.objects.filter(sku="TEE-S")
        .order_by("pk")
        .values_list("reason", "quantity", "stock_after")
    ) == [("initial", 3, 3), ("import", 4, 7), ("sale", -2, 5)]
    call_command("reconcile_stock", stdout=StringIO())
