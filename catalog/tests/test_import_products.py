import os
import subprocess
import sys
import time
from decimal import Decimal
from io import BytesIO, StringIO
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import cache
from catalog.models import Category, Product, StockMovement
from catalog.tests.factories import CategoryFactory, ProductFactory
from core.testing import current_database_url

pytestmark = pytest.mark.django_db

HEADER = "sku,name,price,category,stock,is_active,description,slug\n"


@pytest.fixture
def coffee():
    return CategoryFactory(name="Coffee", slug="coffee")


def write_csv(tmp_path, text, name="products.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def run_import(path, *args):
    """Run the command; return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("import_products", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(path, *args):
    """Run an import that must fail; return (message, stderr lines)."""
    err = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_products", str(path), *args, stdout=StringIO(), stderr=err)
    return str(error.value), err.getvalue().splitlines()


def reconcile():
    out = StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue().splitlines()[-1]


def test_import_creates_products_with_their_stock_as_import_movements(tmp_path, coffee):
    path = write_csv(
        tmp_path,
        HEADER
        + "BEAN-1,Ethiopia Yirgacheffe,14.5,coffee,12,true,Floral and bright.,\n"
        + "BEAN-2,House Espresso,9.99,coffee,,no,,espresso\n",
    )

    out, err = run_import(path)

    first, second = Product.objects.order_by("sku")
    assert (first.sku, first.name, first.slug, first.price) == (
        "BEAN-1",
        "Ethiopia Yirgacheffe",
        "ethiopia-yirgacheffe",
        Decimal("14.50"),
    )
    assert (first.stock, first.is_active, first.description, first.category) == (
        12,
        True,
        "Floral and bright.",
        coffee,
    )
    assert (second.slug, second.stock, second.is_active, second.description) == (
        "espresso",
        0,
        False,
        "",
    )
    assert list(
        StockMovement.objects.values_list("sku", "quantity", "stock_after", "reason")
    ) == [("BEAN-1", 12, 12, "import")]
    assert StockMovement.objects.get().reference == "import products.csv"
    assert out.splitlines() == [
        f"Reading {path}…",
        "Read 2 rows; checking them…",
        f"Imported {path}: 2 created, 0 updated, 0 unchanged, 0 errors; "
        "1 stock movements.",
    ]
    assert err == ""
    assert (
        reconcile() == "Stock matches the movements of every variant, and every "
        "product the aggregates of its variants."
    )


def test_import_updates_products_by_sku_and_records_the_stock_difference(
    tmp_path, coffee
):
    tea = CategoryFactory(slug="tea")
    mug = ProductFactory(sku="MUG-1", name="Mug", price=Decimal("8.00"), stock=10)
    kept = ProductFactory(sku="KEPT-1", description="Old words.", stock=4)
    path = write_csv(
        tmp_path,
        "sku,name,price,category,stock,description\n"
        "MUG-1,Blue Mug,9.50,tea,7,A blue mug.\n"
        f"KEPT-1,{kept.name},19.99,{kept.category.slug},,\n",
    )

    out, _ = run_import(path, "--verbosity", "2")

    mug.refresh_from_db()
    assert (mug.name, mug.price, mug.category, mug.stock, mug.description) == (
        "Blue Mug",
        Decimal("9.50"),
        tea,
        7,
        "A blue mug.",
    )
    assert mug.slug == "mug"  # an empty slug cell keeps the slug
    assert list(
        StockMovement.objects.filter(product=mug).values_list(
            "quantity", "stock_after", "reason"
        )
    ) == [(-3, 7, "import"), (10, 10, "initial")]
    kept.refresh_from_db()
    assert (kept.description, kept.stock) == ("Old words.", 4)
    assert "  line 2: MUG-1 updated (name, price, category, description, stock)" in (
        out.splitlines()
    )
    assert out.splitlines()[-1] == (
        f"Imported {path}: 0 created, 1 updated, 1 unchanged, 0 errors; "
        "1 stock movements."
    )
    assert (
        reconcile() == "Stock matches the movements of every variant, and every "
        "product the aggregates of its variants."
    )


def test_an_unchanged_row_writes_nothing(tmp_path, coffee):
    product = ProductFactory(
        sku="BEAN-1", name="Beans", price=Decimal("5.00"), category=coffee, stock=3
    )
    stamp = product.updated_at
    path = write_csv(
        tmp_path, HEADER + "BEAN-1,Beans,5,coffee,3,true,A fine product.,\n"
    )

    with connection.execute_wrapper(forbid_writes):
        out, _ = run_import(path)

    product.refresh_from_db()
    assert product.updated_at == stamp
    assert StockMovement.objects.count() == 1
    assert out.splitlines()[-1].endswith(
        "0 created, 0 updated, 1 unchanged, 0 errors; 0 stock movements."
    )


def forbid_writes(execute, sql, params, many, context):
    assert not sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")), sql
    return execute(sql, params, many, context)


def test_one_bad_row_imports_nothing_and_exits_non_zero(tmp_path, coffee):
    ProductFactory(sku="OLD-1", name="Old", stock=5, category=coffee)
    path = write_csv(
        tmp_path,
        HEADER
        + "NEW-1,Good,1.00,coffee,1,,,\n"
        + "OLD-1,Renamed,2.00,coffee,9,,,\n"
        + "NEW-2,Bad,free,coffee,1,,,\n",
    )

    message, errors = failed_import(path)

    assert message == (
        f"1 row of {path} cannot be imported (listed above); nothing was imported."
    )
    assert errors == ["line 4: price 'free' is not an amount such as 12.50"]
    assert list(Product.objects.values_list("sku", "name", "stock")) == [
        ("OLD-1", "Old", 5)
    ]
    assert StockMovement.objects.count() == 1


def test_every_bad_row_is_reported_with_its_line_number_and_reason(tmp_path, coffee):
    ProductFactory(sku="TAKEN-1", slug="taken-slug", category=coffee)
    path = write_csv(
        tmp_path,
        HEADER
        + "OK-1,Fine,1.00,coffee,1,,,\n"  # line 2
        + "BAD-1,Price,-2,coffee,1,,,\n"
        + "BAD-2,Stock,1.00,coffee,-4,,,\n"
        + "BAD-3,Category,1.00,biscuits,1,,,\n"
        + "OK-1,Twice,1.00,coffee,1,,,\n"
        + ",No SKU,,coffee,1,,,\n"
        + "BAD-5,Fields,1.00,coffee\n"
        + "BAD-6,Active,1.00,coffee,1,maybe,,\n"
        + "BAD-7,Slug,1.00,coffee,1,,,not a slug\n"
        + "BAD-8,Taken,1.00,coffee,1,,,taken-slug\n"
        + "BAD-9,Cents,1.001,coffee,2.5,,,\n"
        + '"BAD-10",Multiline,1.00,coffee,1,,"Two\nlines",ok-slug\n'  # lines 13, 14
        + "BAD-11,Slug again,1.00,coffee,1,,,ok-slug\n",
    )

    message, errors = failed_import(path)

    assert errors == [
        "line 3: price -2 must be above 0",
        "line 4: stock -4 is negative",
        "line 5: unknown category 'biscuits' (use --create-categories to create it)",
        "line 6: SKU OK-1 already appears on line 2",
        "line 7: sku is required; price is required",
        "line 8: expected 8 fields, found 4",
        "line 9: is_active 'maybe' is not true or false",
        "line 10: slug 'not a slug' may hold only letters, digits, hyphens and "
        "underscores",
        "line 11: slug 'taken-slug' belongs to product TAKEN-1",
        "line 12: price 1.001 has more than two decimal places; stock '2.5' is not "
        "a whole number",
        "line 15: slug 'ok-slug' is already given on line 13",
    ]
    assert message.startswith(f"11 rows of {path} cannot be imported")
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (
            "sku,name,category\n",
            "line 1: missing required column(s): price",
        ),
        (
            "sku,name,price,category,stok\n",
            "line 1: unknown column(s) 'stok'; the columns are sku, name, slug, "
            "category, price, stock, is_active, description, variant_sku, options, "
            "compare_at_price, variant_is_active",
        ),
        ("sku,name,price,category,SKU\n", "line 1: column(s) named twice: sku"),
    ],
)
def test_a_bad_header_is_reported_on_its_line(tmp_path, coffee, header, error):
    path = write_csv(tmp_path, header + "A-1,Thing,1.00,coffee,1\n")

    message, errors = failed_import(path)

    assert errors == [error]
    assert message.startswith(f"1 row of {path} cannot be imported")


def test_text_that_is_not_utf8_is_reported_by_line(tmp_path, coffee):
    text = HEADER + "A-1,Café,1.00,coffee,1,,,\n" + "A-2,Crème,1.00,coffee,1,,,\n"
    path = write_csv(tmp_path, text.encode("latin-1"))

    _, errors = failed_import(path)

    assert errors == [
        "line 2: not valid UTF-8 (byte 0xe9 at position 8); save the file as UTF-8",
        "line 3: not valid UTF-8 (byte 0xe8 at position 7); save the file as UTF-8",
    ]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\xed\xa0\x80", "byte 0xed at position 5"),  # an encoded surrogate
        (b"\xc0\xaf", "byte 0xc0 at position 5"),  # an overlong "/"
        (b"\xe2\x82", "byte 0xe2 at position 5"),  # cut short by the comma
        (b"\xff\xfe", "byte 0xff at position 5"),
    ],
)
def test_invalid_utf8_is_reported_on_its_line_and_nothing_is_imported(
    tmp_path, coffee, raw, error
):
    path = write_csv(
        tmp_path,
        b"sku,name,price,category\nA-1,Beans,4.00,coffee\nB-1,"
        + raw
        + b",4.00,coffee\n",
    )

    message, errors = failed_import(path)

    assert errors == [f"line 3: not valid UTF-8 ({error}); save the file as UTF-8"]
    assert message == (
        f"1 row of {path} cannot be imported (listed above); nothing was imported."
    )
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("row", "position"),
    [
        (b"A-\x001,Beans,4.00,coffee", 3),
        (b"A-1,Be\x00ans,4.00,coffee", 7),
        (b"A-1,Beans,4.0\x000,coffee", 14),
        (b"A-1,Beans,4.00,coffee,\x00", 23),
    ],
)
def test_a_nul_byte_is_reported_on_its_line_and_nothing_is_imported(
    tmp_path, coffee, row, position
):
    path = write_csv(
        tmp_path, b"sku,name,price,category\nB-1,Tea,1.00,coffee\n" + row + b"\n"
    )

    message, errors = failed_import(path)

    assert errors == [
        f"line 3: a NUL byte (0x00 at position {position}), which is not text; "
        "save the file as UTF-8"
    ]
    assert message == (
        f"1 row of {path} cannot be imported (listed above); nothing was imported."
    )
    assert not Product.objects.exists()


def test_a_file_in_utf16_is_refused_line_by_line(tmp_path, coffee):
    text = "sku,name,price,category\nA-1,Beans,4.00,coffee\n"
    path = write_csv(tmp_path, text.encode("utf-16-le"))

    _, errors = failed_import(path)

    assert errors == [
        "line 1: a NUL byte (0x00 at position 2), which is not text; save the file "
        "as UTF-8",
        "line 2: a NUL byte (0x00 at position 1), which is not text; save the file "
        "as UTF-8",
        "line 3: a NUL byte (0x00 at position 1), which is not text; save the file "
        "as UTF-8",
    ]
    assert not Product.objects.exists()


def test_a_nul_byte_ends_the_command_with_status_1_and_no_traceback(tmp_path, coffee):
    path = write_csv(tmp_path, b"sku,name,price,category\nA-\x001,Beans,4.00,coffee\n")

    result = subprocess.run(
        [sys.executable, "manage.py", "import_products", str(path)],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopswift.settings_test",
            # The test database, also on the embedded server's socket.
            "DATABASE_URL": current_database_url(),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "line 2: a NUL byte (0x00 at position 3), which is not text; save the file "
        "as UTF-8",
        f"CommandError: 1 row of {path} cannot be imported (listed above); nothing "
        "was imported.",
    ]


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("A-1,Tea\u202epot,1.00,coffee,", "name holds the control character U+202E"),
        ("A-1,Tea\u2066pot,1.00,coffee,", "name holds the control character U+2066"),
        ("A-1,Tea\u0007pot,1.00,coffee,", "name holds the control character U+0007"),
        ('A-1,"Tea\npot",1.00,coffee,', "name holds the control character U+000A"),
        ("A-1,Tea\tpot,1.00,coffee,", "name holds the control character U+0009"),
        ("A\u001b[2J,Tea,1.00,coffee,", "sku holds the control character U+001B"),
        (
            "A-1,Tea,1.00,coffee,H\u0085ot",
            "description holds the control character U+0085",
        ),
        (
            "A-1,Tea,1.00,coffee,\u202bHot",
            "description holds the control character U+202B",
        ),
    ],
)
def test_control_characters_in_imported_text_are_reported_by_line(
    tmp_path, coffee, row, error
):
    path = write_csv(
        tmp_path, "sku,name,price,category,description\nB-1,Tea,1.00,coffee,\n" + row
    )

    _, errors = failed_import(path)

    assert errors == [f"line 3: {error}; use printable text only"]
    assert not Product.objects.exists()


def test_imported_text_is_stored_in_nfc_with_the_descriptions_line_breaks(
    tmp_path, coffee
):
    path = write_csv(
        tmp_path,
        "sku,name,price,category,description\n"
        'A-1,Cafe\u0301 Ame\u0301lie,1.00,coffee,"Cre\u0300me.\r\n\tDark."\n',
    )

    run_import(path)

    product = Product.objects.get()
    assert (product.name, product.description) == ("Café Amélie", "Crème.\r\n\tDark.")


def test_a_name_that_composes_to_the_longest_fits(tmp_path, coffee):
    name = "e\u0301" * 200  # 400 characters as written, 200 once composed
    path = write_csv(tmp_path, f"sku,name,price,category\nA-1,{name},1.00,coffee\n")

    run_import(path)

    assert Product.objects.get().name == "é" * 200


def test_a_header_of_20000_columns_is_checked_in_well_under_a_second(tmp_path, coffee):
    # A generous bound: the quadratic check took seconds (docs/operations.md).
    names = ["sku", "name", "price", "category", *(f"c{n}" for n in range(19_996))]
    path = write_csv(tmp_path, ",".join(names) + "\n")

    started = time.perf_counter()
    _, errors = failed_import(path)
    elapsed = time.perf_counter() - started

    assert errors == [
        "line 1: unknown column(s) 'c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', "
        "'c8', 'c9' and 19986 more; the columns are sku, name, slug, category, "
        "price, stock, is_active, description, variant_sku, options, "
        "compare_at_price, variant_is_active"
    ]
    assert elapsed < 1


def test_a_header_naming_a_column_thousands_of_times_is_checked_quickly(
    tmp_path, coffee
):
    names = ["sku", "name", "price", "category", *(["stock"] * 19_996)]
    path = write_csv(tmp_path, ",".join(names) + "\n")

    started = time.perf_counter()
    _, errors = failed_import(path)
    elapsed = time.perf_counter() - started

    assert errors == ["line 1: column(s) named twice: stock"]
    assert elapsed < 1


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path, coffee):
    text = "\ufeffsku,name,price,category\r\nA-1,Café,1.00,coffee\r\n"
    path = write_csv(tmp_path, text)

    run_import(path)

    assert Product.objects.get().name == "Café"


def test_an_empty_file_is_refused(tmp_path):
    _, errors = failed_import(write_csv(tmp_path, ""))

    assert errors == ["line 1: the file is empty: the first line must name the columns"]


def test_a_file_that_cannot_be_read_is_refused(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import_products", str(tmp_path / "missing.csv"))

    assert str(error.value) == (
        f"Cannot read {tmp_path / 'missing.csv'}: No such file or directory."
    )


def test_a_dry_run_reports_what_would_change_and_changes_nothing(tmp_path, coffee):
    ProductFactory(sku="OLD-1", name="Old", stock=5, category=coffee)
    path = write_csv(
        tmp_path,
        HEADER + "NEW-1,New,1.00,teas,3,,,\n" + "OLD-1,Old,19.99,coffee,8,,,\n",
    )

    with connection.execute_wrapper(forbid_writes):
        out, _ = run_import(path, "--dry-run", "--create-categories")

    assert out.splitlines()[-1] == (
        f"Dry run of {path}: would be 1 created, 1 updated, 0 unchanged, 0 errors; "
        "2 stock movements; categories created: teas. Nothing changed."
    )
    assert list(Product.objects.values_list("sku", "stock")) == [("OLD-1", 5)]
    assert not Category.objects.filter(slug="teas").exists()


def test_a_dry_run_reports_bad_rows_too(tmp_path, coffee):
    path = write_csv(tmp_path, HEADER + "NEW-1,New,0,coffee,3,,,\n")

    message, errors = failed_import(path, "--dry-run")

    assert errors == ["line 2: price 0 must be above 0"]
    assert "nothing was imported" in message


def test_create_categories_creates_the_missing_ones_at_the_top_level(tmp_path):
    path = write_csv(
        tmp_path,
        "sku,name,price,category\nT-1,Sencha,4.00,green-tea\nT-2,Bancha,3.00,green-tea\n",
    )

    out, _ = run_import(path, "--create-categories")

    category = Category.objects.get()
    assert (category.slug, category.name, category.parent) == (
        "green-tea",
        "Green tea",
        None,
    )
    assert set(category.products.values_list("sku", flat=True)) == {"T-1", "T-2"}
    assert out.splitlines()[-1].endswith("; categories created: green-tea.")


def test_new_products_get_free_slugs_derived_from_their_names(tmp_path, coffee):
    ProductFactory(name="Blue Mug", category=coffee)
    path = write_csv(
        tmp_path,
        "sku,name,price,category,slug\n"
        "M-1,Blue Mug,1.00,coffee,\n"
        "M-2,Blue mug!,1.00,coffee,\n"
        "M-3,Other,1.00,coffee,blue-mug-3\n",
    )

    run_import(path)

    assert list(
        Product.objects.filter(sku__startswith="M-")
        .order_by("sku")
        .values_list("slug", flat=True)
    ) == ["blue-mug-2", "blue-mug-4", "blue-mug-3"]


def test_the_catalog_cache_is_invalidated_once_after_commit(
    tmp_path, coffee, django_capture_on_commit_callbacks
):
    ProductFactory(sku="OLD-1", category=coffee)
    rows = "".join(f"N-{n},Thing {n},1.00,coffee,{n},,,\n" for n in range(5))
    path = write_csv(tmp_path, HEADER + rows + "OLD-1,Renamed,1.00,coffee,1,,,\n")
    version = cache.read("version", ()).version

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_import(path, "--batch-size", "2", "--create-categories")

    assert callbacks == [cache.bump]
    assert cache.read("version", ()).version != version


def test_the_queries_do_not_grow_with_the_rows_of_a_batch(tmp_path, coffee):
    def queries_for(count):
        existing = ProductFactory.create_batch(count, category=coffee)
        rows = "".join(
            f"{product.sku},Renamed {product.sku},2.00,coffee,7,,,\n"
            for product in existing
        ) + "".join(f"NEW-{count}-{n},New {n},1.00,coffee,3,,,\n" for n in range(count))
        path = write_csv(tmp_path, HEADER + rows, name=f"{count}.csv")
        with CaptureQueriesContext(connection) as queries:
            run_import(path, "--batch-size", "100")
        return len(queries)

    assert queries_for(3) == queries_for(30)


def test_writes_are_made_batch_by_batch(tmp_path, coffee):
    rows = "".join(f"N-{n},Thing {n},1.00,coffee,{n + 1},,,\n" for n in range(5))
    path = write_csv(tmp_path, HEADER + rows)

    with CaptureQueriesContext(connection) as queries:
        out, _ = run_import(path, "--batch-size", "2", "--progress-every", "2")

    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    # Products, their default variants and their movements, for 3 batches.
    assert len(inserts) == 9
    assert out.splitlines()[2:4] == [
        "  wrote 2 of 5 products",
        "  wrote 4 of 5 products",
    ]
    assert Product.objects.count() == 5


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--batch-size=0", "--batch-size must be 1 or more."),
        ("--progress-every=0", "--progress-every must be 1 or more."),
    ],
)
def test_bad_options_are_refused(tmp_path, option, message):
    path = write_csv(tmp_path, HEADER)

    with pytest.raises(CommandError) as error:
        call_command("import_products", str(path), option)

    assert str(error.value) == message


def test_standard_input_is_read_for_a_dash(monkeypatch, coffee):
    data = b"sku,name,price,category\nA-1,Beans,4.00,coffee\n"
    monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=BytesIO(data)))

    out, _ = run_import("-")

    assert Product.objects.get().sku == "A-1"
    assert out.splitlines()[-1] == (
        "Imported standard input: 1 created, 0 updated, 0 unchanged, 0 errors; "
        "0 stock movements."
    )
    assert StockMovement.objects.count() == 0
