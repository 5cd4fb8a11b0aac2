from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog import services
from catalog.tests.factories import ProductFactory, variant_of

pytestmark = pytest.mark.django_db


def reconcile(*args):
    out = StringIO()
    call_command("reconcile_stock", *args, stdout=out)
    return out.getvalue()


def test_reconcile_finds_no_drift_after_ordinary_stock_changes():
    mug, tea = ProductFactory(stock=5), ProductFactory(stock=0)
    services.take_stock(lines=[(variant_of(mug).pk, 2)], reference="ORD-1")
    services.adjust_stock(variant=variant_of(tea), quantity=7)
    services.return_stock(lines=[(variant_of(mug).pk, 1)], reference="ORD-1")

    output = reconcile()

    assert output.splitlines() == [
        "Reconciling the stock of 2 variants…",
        "Checked 2 variants: 0 drifted.",
        "Checked 2 products: 0 drifted.",
        "Stock matches the movements of every variant, and every product the "
        "aggregates of its variants.",
    ]


def test_reconcile_reports_drift_and_fails():
    kept = ProductFactory(stock=5)
    drifted = ProductFactory(sku="DRIFT-1", stock=5)
    # Stock changed around the service, as a raw UPDATE would.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_product SET stock = 9 WHERE id = %s", [drifted.pk]
        )
    out = StringIO()

    with pytest.raises(CommandError) as error:
        call_command("reconcile_stock", stdout=out)

    assert str(error.value) == "1 rows drifted from their stock movements or variants."
    assert (
        f"DRIFT product {drifted.pk} (DRIFT-1): stock 9, price 19.99; its active "
        "variants hold 5 units from 19.99"
    ) in out.getvalue()
    assert f"product {kept.pk} " not in out.getvalue()


def test_reconcile_reports_a_variant_whose_stock_left_its_movements():
    drifted = ProductFactory(sku="DRIFT-2", stock=5)
    variant = variant_of(drifted)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_productvariant SET stock = 2 WHERE id = %s", [variant.pk]
        )
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("reconcile_stock", stdout=out)

    assert (
        f"DRIFT variant {variant.pk} (DRIFT-2): stock on hand 2, movements sum to 5, "
        "drift -3"
    ) in out.getvalue()


def test_reconcile_prints_progress_lines():
    ProductFactory.create_batch(5)

    output = reconcile("--progress-every", "2")

    assert "  checked 2 products, 0 drifted" in output.splitlines()
    assert "  checked 4 products, 0 drifted" in output.splitlines()
