from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog import services
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def reconcile(*args):
    out = StringIO()
    call_command("reconcile_stock", *args, stdout=out)
    return out.getvalue()


def test_reconcile_finds_no_drift_after_ordinary_stock_changes():
    mug, tea = ProductFactory(stock=5), ProductFactory(stock=0)
    services.take_stock(lines=[(mug.pk, 2)], reference="ORD-1")
    services.adjust_stock(product=tea, quantity=7)
    services.return_stock(lines=[(mug.pk, 1)], reference="ORD-1")

    output = reconcile()

    assert output.splitlines() == [
        "Reconciling the stock of 2 products…",
        "Checked 2 products: stock matches the movements of every one.",
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

    assert (
        str(error.value) == "Checked 2 products: 1 drifted from their stock movements."
    )
    assert (
        f"DRIFT product {drifted.pk} (DRIFT-1): stock on hand 9, movements sum to 5, "
        "drift +4"
    ) in out.getvalue()
    assert f"product {kept.pk} " not in out.getvalue()


def test_reconcile_prints_progress_lines():
    ProductFactory.create_batch(5)

    output = reconcile("--progress-every", "2")

    assert "  checked 2 products, 0 drifted" in output.splitlines()
    assert "  checked 4 products, 0 drifted" in output.splitlines()
