"""The products CSV with variants: one row per variant, both ways."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, ProductVariant, StockMovement
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    TeeFactory,
    variant_row,
)

pytestmark = pytest.mark.django_db

HEADER = "sku,name,category,variant_sku,options,price,compare_at_price,stock\n"


@pytest.fixture
def tees():
    return CategoryFactory(name="Tees", slug="tees")


def import_file(tmp_path, text, *args):
    path = tmp_path / "products.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_products", str(path), *args, stdout=out, stderr=err)
    return out.getvalue()


def export():
    out = StringIO()
    call_command("export_products", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_import_creates_a_product_with_its_option_types_and_variants(tmp_path, tees):
    import_file(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-RED-S,Colour=Red; Size=S,15.00,20.00,2\n"
        + "TEE,Tee,tees,TEE-RED-M,Colour=Red; Size=M,16.00,,0\n"
        + "TEE,Tee,tees,TEE-BLUE-M,Colour=Blue; Size=M,17.00,,3\n",
    )

    product = Product.objects.get(sku="TEE")
    assert [(o.name, o.values) for o in product.option_types.all()] == [
        ("Colour", ["Red", "Blue"]),
        ("Size", ["S", "M"]),
    ]
    assert list(
        product.variants.order_by("position").values_list(
            "sku", "options", "price", "compare_at_price", "stock"
        )
    ) == [
        (
            "TEE-RED-S",
            {"Colour": "Red", "Size": "S"},
            Decimal("15.00"),
            Decimal("20.00"),
            2,
        ),
        ("TEE-RED-M", {"Colour": "Red", "Size": "M"}, Decimal("16.00"), None, 0),
        ("TEE-BLUE-M", {"Colour": "Blue", "Size": "M"}, Decimal("17.00"), None, 3),
    ]
    assert (product.price, product.stock) == (Decimal("15.00"), 5)
    assert list(
        StockMovement.objects.order_by("sku").values_list("sku", "quantity", "reason")
    ) == [("TEE-BLUE-M", 3, "import"), ("TEE-RED-S", 2, "import")]


def test_an_export_imported_back_changes_nothing(tmp_path, tees):
    TeeFactory(
        category=tees,
        option_types={"Size": ["S", "M"], "Colour": ["Red"]},
        variants=[
            variant_row("S", "Red", price="5"),
            variant_row(
                "M",
                "Red",
                price="6",
                compare_at_price=Decimal("9"),
                stock=4,
                is_active=False,
            ),
        ],
    )
    ProductFactory(sku="MUG", category=tees, stock=3)
    written = export()

    output = import_file(tmp_path, written)

    assert "0 created, 0 updated, 2 unchanged" in output
    assert (
        "TEE,Tee,tee,tees,5.00,0,true,A fine product.,TEE-S-RED,"
        "Size=S; Colour=Red,,true" in written
    )
    assert (
        "TEE,Tee,tee,tees,6.00,4,true,A fine product.,TEE-M-RED,"
        "Size=M; Colour=Red,9.00,false" in written
    )


def test_an_import_updates_a_variants_price_and_stock_with_a_movement(tmp_path, tees):
    import_file(tmp_path, HEADER + "TEE,Tee,tees,TEE-S,Size=S,15.00,,2\n")

    output = import_file(tmp_path, HEADER + "TEE,Tee,tees,TEE-S,Size=S,14.00,,5\n")

    variant = ProductVariant.objects.get(sku="TEE-S")
    assert (variant.price, variant.stock) == (Decimal("14.00"), 5)
    assert "0 created, 1 updated" in output
    assert StockMovement.objects.filter(variant=variant).count() == 2


def test_a_file_without_variant_columns_still_imports_default_variants(tmp_path, tees):
    path = tmp_path / "plain.csv"
    path.write_text("sku,name,price,category,stock\nMUG,Mug,4.00,tees,3\n")
    call_command("import_products", str(path), stdout=StringIO())

    variant = ProductVariant.objects.get()
    assert (variant.sku, variant.options, variant.price, variant.stock) == (
        "MUG",
        {},
        Decimal("4.00"),
        3,
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("TEE,Tee,tees,TEE-S,Size,1.00,,1", "not written as Size=M"),
        ("TEE,Tee,tees,TEE-S,Size=S,1.00,0.50,1", "compare-at price must be above"),
    ],
)
def test_a_bad_variant_row_rejects_the_import_naming_its_line(
    tmp_path, tees, row, message
):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + row + "\n")
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_products", str(path), stdout=StringIO(), stderr=err)

    assert err.getvalue().startswith("line 2: ")
    assert message in err.getvalue()
    assert not Product.objects.exists()


def test_a_dry_run_with_variants_changes_nothing(tmp_path, tees):
    output = import_file(
        tmp_path, HEADER + "TEE,Tee,tees,TEE-S,Size=S,15.00,,2\n", "--dry-run"
    )

    assert "1 created" in output
    assert not Product.objects.exists()


def test_an_empty_cell_keeps_the_variants_value(tmp_path, tees):
    import_file(tmp_path, HEADER + "TEE,Tee,tees,TEE-S,Size=S,15.00,20.00,2\n")

    import_file(tmp_path, HEADER + "TEE,Tee,tees,TEE-S,,15.00,,\n")

    variant = ProductVariant.objects.get(sku="TEE-S")
    assert (variant.options, variant.compare_at_price, variant.stock) == (
        {"Size": "S"},
        Decimal("20.00"),
        2,
    )
