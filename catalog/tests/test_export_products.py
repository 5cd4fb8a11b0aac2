import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, StockMovement
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def export(*args):
    out, err = StringIO(), StringIO()
    call_command("export_products", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_writes_every_product_in_the_import_format_by_sku():
    beans = CategoryFactory(slug="beans")
    ProductFactory(
        sku="B-2",
        name="Decaf",
        slug="decaf",
        category=beans,
        price=Decimal("7.00"),
        stock=0,
        is_active=False,
        description="",
    )
    ProductFactory(
        sku="B-1",
        name="Kenya AA",
        slug="kenya-aa",
        category=beans,
        price=Decimal("12.50"),
        stock=8,
        description='Bright, "juicy".',
    )

    out, err = export()

    assert list(csv.reader(StringIO(out))) == [
        [
            "sku",
            "name",
            "slug",
            "category",
            "price",
            "stock",
            "is_active",
            "description",
            "variant_sku",
            "options",
            "compare_at_price",
            "variant_is_active",
        ],
        [
            "B-1",
            "Kenya AA",
            "kenya-aa",
            "beans",
            "12.50",
            "8",
            "true",
            'Bright, "juicy".',
            "B-1",
            "",
            "",
            "true",
        ],
        [
            "B-2",
            "Decaf",
            "decaf",
            "beans",
            "7.00",
            "0",
            "false",
            "",
            "B-2",
            "",
            "",
            "true",
        ],
    ]
    # The CSV alone on standard output; the messages on standard error.
    assert err.splitlines() == [
        "Exporting 2 variants to standard output…",
        "Exported 2 variants to standard output.",
    ]


def test_export_then_import_changes_nothing(tmp_path):
    ProductFactory(sku="R-1", name="=SUM(A1)", description="Line one\nline two, «two»")
    ProductFactory(sku="R-2", name="Café, crème", stock=0, is_active=False)
    ProductFactory(sku="R-3", name='"Quoted"', description="+1 for the crema")
    path = tmp_path / "catalog.csv"
    before = list(Product.objects.order_by("sku").values())

    out, _ = export(str(path))
    imported = StringIO()
    call_command("import_products", str(path), stdout=imported)

    assert out.splitlines() == [
        f"Exporting 3 variants to {path}…",
        f"Exported 3 variants to {path}.",
    ]
    assert imported.getvalue().splitlines()[-1] == (
        f"Imported {path}: 0 created, 0 updated, 3 unchanged, 0 errors; "
        "0 stock movements."
    )
    assert list(Product.objects.order_by("sku").values()) == before
    assert StockMovement.objects.count() == 2


def test_export_prints_progress_lines(tmp_path):
    ProductFactory.create_batch(5)

    out, _ = export(str(tmp_path / "all.csv"), "--progress-every", "2")

    assert out.splitlines()[1:3] == [
        "  wrote 2 of 5 variants",
        "  wrote 4 of 5 variants",
    ]


def test_export_to_a_folder_that_does_not_exist_fails_clearly(tmp_path):
    path = tmp_path / "missing" / "products.csv"

    with pytest.raises(CommandError) as error:
        export(str(path))

    assert str(error.value) == f"Cannot write {path}: No such file or directory."
