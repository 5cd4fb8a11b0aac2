"""The products CSV with variants: one row per variant, both ways."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import cache, services
from catalog.models import (
    Category,
    Product,
    ProductOption,
    ProductVariant,
    Sale,
    StockMovement,
)
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SizedProductFactory,
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


def failed_import(tmp_path, text, *args):
    """Run an import that must fail; return its stderr lines."""
    path = tmp_path / "products.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_products", str(path), *args, stdout=StringIO(), stderr=err)
    return err.getvalue().splitlines()


def export():
    out = StringIO()
    call_command("export_products", stdout=out, stderr=StringIO())
    return out.getvalue()


def reconcile():
    out = StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue().splitlines()[-1]


def forbid_writes(execute, sql, params, many, context):
    assert not sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")), sql
    return execute(sql, params, many, context)


def options_of(product):
    return dict(
        ProductVariant.objects.filter(product=product).values_list("sku", "options")
    )


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


def test_a_dry_run_with_variants_writes_nothing(tmp_path, tees):
    SizedProductFactory(sku="OLD", name="Old", category=tees)

    with connection.execute_wrapper(forbid_writes):
        output = import_file(
            tmp_path,
            HEADER
            + "TEE,Tee,hats,TEE-S,Size=S,15.00,,2\n"
            + "OLD,Old,tees,OLD-S,Size=S,12.00,,9\n",
            "--dry-run",
            "--create-categories",
        )

    assert output.splitlines()[-1].endswith(
        "would be 1 created, 1 updated, 0 unchanged, 0 errors; 2 stock movements; "
        "categories created: hats. Nothing changed."
    )
    assert list(Product.objects.values_list("sku", flat=True)) == ["OLD"]
    assert ProductVariant.objects.get(sku="OLD-S").stock == 3
    assert not Category.objects.filter(slug="hats").exists()


def test_an_empty_cell_keeps_the_variants_value(tmp_path, tees):
    import_file(tmp_path, HEADER + "TEE,Tee,tees,TEE-S,Size=S,15.00,20.00,2\n")

    import_file(tmp_path, HEADER + "TEE,Tee,tees,TEE-S,,15.00,,\n")

    variant = ProductVariant.objects.get(sku="TEE-S")
    assert (variant.options, variant.compare_at_price, variant.stock) == (
        {"Size": "S"},
        Decimal("20.00"),
        2,
    )


def test_a_product_whose_rows_span_two_batches_is_written_whole(tmp_path, tees):
    output = import_file(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-S,Size=S,15.00,,2\n"
        + "MUG,Mug,tees,MUG,,4.00,,1\n"
        + "TEE,Tee,tees,TEE-M,Size=M,12.00,,3\n",
        "--batch-size",
        "1",
        "--progress-every",
        "1",
    )

    tee = Product.objects.get(sku="TEE")
    assert list(
        tee.variants.order_by("position").values_list("sku", "position", "stock")
    ) == [("TEE-S", 0, 2), ("TEE-M", 1, 3)]
    assert (tee.price, tee.stock) == (Decimal("12.00"), 5)
    assert Product.objects.get(sku="MUG").stock == 1
    assert output.splitlines()[2:4] == [
        "  wrote 1 of 2 products",
        "  wrote 2 of 2 products",
    ]
    assert reconcile().startswith("Stock matches the movements of every variant")


def test_a_refusal_in_the_second_batch_leaves_nothing_written(tmp_path, tees):
    with connection.execute_wrapper(forbid_writes):
        errors = failed_import(
            tmp_path,
            HEADER
            + "TEE,Tee,hats,TEE-S,Size=S,15.00,,2\n"
            + "CAP,Cap,hats,CAP-S,Size=S,5.00,,1\n"
            + "CAP,Cap,hats,CAP-M,Size=M,5.00,4.00,1\n",
            "--batch-size",
            "1",
            "--create-categories",
        )

    assert errors == ["line 4: The compare-at price must be above the price."]
    assert not Product.objects.exists()
    assert not ProductVariant.objects.exists()
    assert not ProductOption.objects.exists()
    assert not StockMovement.objects.exists()
    assert not Category.objects.filter(slug="hats").exists()


def test_every_refused_variant_is_reported_on_its_own_line(tmp_path, tees):
    errors = failed_import(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-S,Size=S,15.00,,2\n"
        + "TEE,Tee,tees,TEE-M,,15.00,,2\n"
        + "HAT,Hat,tees,HAT-S,Size=S,5.00,5.00,1\n",
    )

    assert errors == [
        "line 3: Give exactly this product's options (Size).",
        "line 4: The compare-at price must be above the price.",
    ]


def test_a_variant_sku_equal_to_another_products_sku_is_refused(tmp_path, tees):
    ProductFactory(sku="MUG", category=tees, stock=4)

    errors = failed_import(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-S,Size=S,15.00,,2\n"
        + "TEE,Tee,tees,MUG,Size=M,15.00,,2\n",
    )

    assert errors == [f"line 3: {services.SKU_TAKEN}"]
    assert list(Product.objects.values_list("sku", flat=True)) == ["MUG"]
    assert list(ProductVariant.objects.values_list("sku", "stock")) == [("MUG", 4)]


def test_a_variant_of_another_product_is_not_moved(tmp_path, tees):
    SizedProductFactory(sku="TEE", category=tees)

    errors = failed_import(tmp_path, HEADER + "CAP,Cap,tees,TEE-S,Size=S,5.00,,1\n")

    assert errors == [f"line 2: {services.SKU_TAKEN}"]


def test_a_stock_change_writes_one_movement_of_the_difference(tmp_path, tees):
    tee = SizedProductFactory(sku="TEE", name="Tee", category=tees)  # S 3, M 0, L 5

    output = import_file(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-S,Size=S,12.00,,7\n"
        + "TEE,Tee,tees,TEE-L,Size=L,14.00,,5\n",
        "--verbosity",
        "2",
    )

    movements = StockMovement.objects.filter(reason=StockMovement.Reason.IMPORT)
    assert list(
        movements.values_list("sku", "quantity", "stock_after", "reference")
    ) == [("TEE-S", 4, 7, "import products.csv")]
    tee.refresh_from_db()
    assert (ProductVariant.objects.get(sku="TEE-S").stock, tee.stock) == (7, 12)
    assert "  line 2: TEE updated (stock of TEE-S)" in output.splitlines()
    assert output.splitlines()[-1].endswith(
        "0 created, 1 updated, 0 unchanged, 0 errors; 1 stock movements."
    )
    assert reconcile().startswith("Stock matches the movements of every variant")


def test_a_reimport_of_an_unchanged_file_writes_nothing(
    tmp_path, tees, django_capture_on_commit_callbacks
):
    text = (
        HEADER
        + "TEE,Tee,tees,TEE-S,Colour=Red; Size=S,15.00,20.00,2\n"
        + "TEE,Tee,tees,TEE-M,Size=M; Colour=Red,16.00,,0\n"
        + "MUG,Mug,tees,MUG,,4.00,,1\n"
    )
    import_file(tmp_path, text)
    stamps = list(ProductVariant.objects.values_list("updated_at", flat=True))

    with (
        connection.execute_wrapper(forbid_writes),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        output = import_file(tmp_path, text)

    assert output.splitlines()[-1].endswith(
        "0 created, 0 updated, 2 unchanged, 0 errors; 0 stock movements."
    )
    assert callbacks == []
    assert list(ProductVariant.objects.values_list("updated_at", flat=True)) == stamps


def test_an_import_invalidates_the_catalog_cache_once_after_commit(
    tmp_path, tees, django_capture_on_commit_callbacks
):
    SizedProductFactory(sku="OLD", category=tees)
    rows = "".join(f"N{n},New,tees,N{n}-S,Size=S,1.00,,{n}\n" for n in range(5))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_file(
            tmp_path,
            HEADER + rows + "OLD,Renamed,hats,OLD-S,Size=S,2.00,,1\n",
            "--batch-size",
            "2",
            "--create-categories",
        )

    assert callbacks == [cache.bump]


def test_the_statements_of_a_batch_do_not_grow_with_its_products(tmp_path, tees):
    def statements_for(count):
        existing = SizedProductFactory.create_batch(count, category=tees)
        changed = "".join(
            f"{product.sku},Renamed,tees,{product.sku}-{size},Size={size},9.00,,7\n"
            for product in existing
            for size in ("S", "M", "L")
        )
        new = "".join(
            f"NEW-{count}-{n},New,tees,NEW-{count}-{n}-{size},Size={size},1.00,,3\n"
            for n in range(count)
            for size in ("S", "M")
        )
        path = tmp_path / f"{count}.csv"
        path.write_text(HEADER + changed + new, encoding="utf-8")
        with CaptureQueriesContext(connection) as queries:
            call_command("import_products", str(path), stdout=StringIO())
        return len(queries)

    assert statements_for(3) == statements_for(30)


def test_a_batch_of_new_products_takes_a_few_statements(
    tmp_path, tees, django_assert_max_num_queries
):
    rows = "".join(
        f"P{n},Tee {n},tees,P{n}-{size},Size={size}; Colour=Red,5.00,,{n}\n"
        for n in range(50)
        for size in ("S", "M", "L")
    )
    path = tmp_path / "products.csv"
    path.write_text(HEADER + rows, encoding="utf-8")

    # The catalog read once, then four inserts, the aggregates and the
    # products' option values: 21 in all.
    with django_assert_max_num_queries(21):
        call_command("import_products", str(path), stdout=StringIO())

    assert ProductVariant.objects.count() == 150


def test_options_moving_between_variants_are_written_in_the_services_order(
    tmp_path, tees
):
    tee = SizedProductFactory(sku="TEE", name="Tee", category=tees)

    import_file(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-L,Size=XL,14.00,,5\n"
        + "TEE,Tee,tees,TEE-M,Size=L,10.00,,0\n"
        + "TEE,Tee,tees,TEE-S,Size=M,12.00,,3\n",
    )

    assert options_of(tee) == {
        "TEE-S": {"Size": "M"},
        "TEE-M": {"Size": "L"},
        "TEE-L": {"Size": "XL"},
    }
    assert list(tee.option_types.values_list("values", flat=True)) == [
        ["S", "M", "L", "XL"]
    ]


def test_options_another_variant_still_holds_are_refused(tmp_path, tees):
    SizedProductFactory(sku="TEE", name="Tee", category=tees)

    errors = failed_import(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-S,Size=M,12.00,,3\n"
        + "TEE,Tee,tees,TEE-M,Size=S,10.00,,0\n",
    )

    # Each refused row leaves its variant as it was.
    assert errors == [
        f"line 2: {services.OPTIONS_TAKEN}",
        f"line 3: {services.OPTIONS_TAKEN}",
    ]


def test_an_import_adds_an_option_type_to_the_variants_it_names(tmp_path, tees):
    tee = SizedProductFactory(sku="TEE", name="Tee", category=tees)
    rows = "".join(
        f"TEE,Tee,tees,TEE-{size},Size={size}; Colour=Red,{price},,{stock}\n"
        for size, price, stock in (
            ("S", "12.00", 3),
            ("M", "10.00", 0),
            ("L", "14.00", 5),
        )
    )

    import_file(tmp_path, HEADER + rows)

    assert list(tee.option_types.values_list("name", "values")) == [
        ("Size", ["S", "M", "L"]),
        ("Colour", ["Red"]),
    ]
    assert options_of(tee)["TEE-M"] == {"Size": "M", "Colour": "Red"}


def test_a_variant_the_file_leaves_out_must_fit_new_option_types(tmp_path, tees):
    SizedProductFactory(sku="TEE", name="Tee", category=tees)

    errors = failed_import(
        tmp_path, HEADER + "TEE,Tee,tees,TEE-S,Size=S; Colour=Red,12.00,,3\n"
    )

    assert errors == [
        "line 2: Variant TEE-M has the options {'Size': 'M'}: change or delete it "
        "first."
    ]


def test_a_product_without_options_gets_some_from_an_import(tmp_path, tees):
    mug = ProductFactory(sku="MUG", name="Mug", category=tees, price=Decimal("4.00"))

    import_file(
        tmp_path,
        HEADER
        + "MUG,Mug,tees,MUG,Colour=White,4.00,,\n"
        + "MUG,Mug,tees,MUG-BLUE,Colour=Blue,5.00,,2\n",
    )

    assert options_of(mug) == {
        "MUG": {"Colour": "White"},
        "MUG-BLUE": {"Colour": "Blue"},
    }
    mug.refresh_from_db()
    assert (mug.price, mug.stock) == (Decimal("4.00"), 12)


def test_new_variants_take_the_sale_in_force_and_are_searchable(tmp_path, tees):
    now = timezone.now()
    services.save_sale(
        sale=Sale(
            name="Tees",
            kind=Sale.Kind.PERCENTAGE,
            value=Decimal("10"),
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=1),
        ),
        categories=[tees],
    )

    import_file(
        tmp_path,
        HEADER
        + "TEE,Tee,tees,TEE-S,Size=S,20.00,,2\n"
        + "TEE,Tee,tees,TEE-M,Size=M,30.00,,2\n",
    )

    tee = Product.objects.get(sku="TEE")
    assert dict(tee.variants.values_list("sku", "sale_price")) == {
        "TEE-S": Decimal("18.00"),
        "TEE-M": Decimal("27.00"),
    }
    assert tee.price == Decimal("18.00")
    assert tee.search_terms == 'TEE-S ["S"] TEE-M ["M"]'


def test_the_option_facet_counts_imported_variants(tmp_path, tees, api_client):
    import_file(
        tmp_path,
        HEADER
        + "P1,Tee 1,tees,P1-S,Size=S,5.00,,1\n"
        + "P1,Tee 1,tees,P1-M,Size=M,5.00,,1\n"
        + "P2,Tee 2,tees,P2-M,Size=M,5.00,,1\n",
    )
    # A variant taken off sale by a second file no longer counts.
    import_file(
        tmp_path,
        "sku,name,category,variant_sku,options,price,variant_is_active\n"
        "P1,Tee 1,tees,P1-S,Size=S,5.00,false\n",
    )

    options = api_client.get("/api/v1/products/facets/").json()["options"]

    assert options == {"Size": [{"value": "M", "count": 2}]}
