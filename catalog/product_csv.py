"""The products CSV file that `import_products` reads and `export_products` writes.

One product per row, keyed by SKU, or with the variant columns one variant
per row (keyed by `variant_sku`, the product's cells repeated on each of its
rows); the first line names the columns, in any order. This module only
reads and writes the format and checks each row on its own; what needs the
database (categories, slugs, creating or updating) is
`catalog.services.import_products`.
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from catalog.exceptions import RowError
from catalog.models import Product
from core.money import quantize_money
from core.text import find_control_character, normalize

REQUIRED_COLUMNS = ("sku", "name", "price", "category")
VARIANT_COLUMNS = ("variant_sku", "options", "compare_at_price", "variant_is_active")
OPTIONAL_COLUMNS = ("slug", "stock", "is_active", "description", *VARIANT_COLUMNS)
# The order export_products writes them in.
COLUMNS = (
    "sku",
    "name",
    "slug",
    "category",
    "price",
    "stock",
    "is_active",
    "description",
    *VARIANT_COLUMNS,
)

COLUMNS_HELP = """\
Columns (the first line names them, in any order):
  sku          required; the product's key: an existing SKU is updated, a new
               one created (at most 64 characters)
  name         required (at most 200 characters)
  price        required; an amount above 0 with at most two decimals: 12.50
  category     required; the slug of an existing category (see
               --create-categories)
  slug         optional; derived from the name for a new product when empty
  stock        optional; units on hand, a whole number 0 or more; a change is
               recorded as a stock movement "import"
  is_active    optional; true or false (also yes/no, 1/0)
  description  optional; may hold line breaks and tabs
With a variant_sku column, each row is one variant of the product `sku`
(its product cells as on its first row), and price, stock and the columns
below are the variant's:
  variant_sku        the variant's key (empty: the product's default variant,
                     whose SKU is the product's)
  options            the variant's options: Size=M; Colour=Red (the product's
                     option types follow, in the order the file gives them)
  compare_at_price   optional; the "was" price, above price
  variant_is_active  optional; true or false (is_active is the product's)
An empty cell in an optional column leaves the product's value as it is (a
new product gets no description, 0 units, active, a derived slug); spaces
around a cell are dropped. Text holds no control characters (nor bidi
overrides) and is stored in Unicode NFC. The file is UTF-8 (with or without
a byte-order mark), comma-separated, quoted as spreadsheets do.
export_products writes this format; text is kept as written, so a cell
starting with = + - or @ may be read as a formula by a spreadsheet."""

MAX_PRICE = Decimal("99999999.99")
# PostgreSQL's integer, the column's type.
MAX_STOCK = 2_147_483_647
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
# Unknown column names listed in full, before "and N more".
UNKNOWN_COLUMNS_SHOWN = 10


@dataclass(frozen=True)
class ProductRow:
    """One valid row of a products file; None is a cell left empty."""

    line: int
    sku: str
    name: str
    price: Decimal
    category: str
    slug: str | None = None
    stock: int | None = None
    is_active: bool | None = None
    description: str | None = None
    # Set (the product's sku when its cell is empty) in a file with variants.
    variant_sku: str | None = None
    options: dict[str, str] | None = None
    compare_at_price: Decimal | None = None
    variant_is_active: bool | None = None


def read_products(
    data: bytes, *, progress=None
) -> tuple[list[ProductRow], list[RowError]]:
    """Read a products file; return its valid rows and an error per bad row.

    Every row is checked on its own (required cells, amounts, numbers, a SKU
    named twice); `progress(rows_read)` is called every 1000 rows. A file
    that is not UTF-8 text (undecodable bytes, NUL bytes) or has no usable
    header line gives an error per bad line and no rows.
    """
    if errors := _byte_errors(data):
        return [], errors
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True)
    rows, errors = [], []
    header = None
    first_line_of: dict[str, int] = {}
    end_of_previous = 0
    try:
        for cells in reader:
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_errors = _header(cells, line)
                if header_errors:
                    return [], header_errors
                continue
            row, reasons = _row(header, cells, line)
            key = None if row is None else row.variant_sku or row.sku
            if key is not None and key in first_line_of:
                reasons.append(
                    f"SKU {key} already appears on line {first_line_of[key]}"
                )
            if reasons:
                errors.append(RowError(line, "; ".join(reasons)))
            else:
                # A row without reasons was read.
                assert row is not None
                assert key is not None
                first_line_of[key] = line
                rows.append(row)
            if progress is not None and (len(rows) + len(errors)) % 1000 == 0:
                progress(len(rows) + len(errors))
    except csv.Error as error:
        errors.append(
            RowError(
                reader.line_num,
                f"the file is not valid CSV here ({error}); nothing after it was read",
            )
        )
    if header is None and not errors:
        errors.append(
            RowError(1, "the file is empty: the first line must name the columns")
        )
    return rows, errors


def write_products(rows, file) -> int:
    """Write products in the import format; return how many.

    `rows` are tuples in COLUMNS order, as
    `Product.objects.values_list(*EXPORT_FIELDS)` gives them. Text is written
    as it is stored, so that importing the file back changes nothing.
    """
    writer = csv.writer(file)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        (sku, name, slug, category, price, stock, is_active, description) = row[:8]
        variant_sku, options, compare_at_price, variant_is_active = row[8:]
        writer.writerow(
            [
                sku,
                name,
                slug,
                category,
                price,
                stock,
                "true" if is_active else "false",
                description,
                variant_sku,
                options_cell(options),
                "" if compare_at_price is None else compare_at_price,
                "true" if variant_is_active else "false",
            ]
        )
        count += 1
    return count


# The ProductVariant fields behind COLUMNS, for values_list(); `options` in
# the product's option order (export_products orders them).
EXPORT_FIELDS = (
    "product__sku",
    "product__name",
    "product__slug",
    "product__category__slug",
    "price",
    "stock",
    "product__is_active",
    "product__description",
    "sku",
    "options",
    "compare_at_price",
    "is_active",
)


def options_cell(options: dict[str, str]) -> str:
    """A variant's options as the file writes them: Size=M; Colour=Red."""
    return "; ".join(f"{name}={value}" for name, value in options.items())


def _byte_errors(data):
    """An error per line that is not UTF-8 text, by its bytes.

    A NUL byte is valid UTF-8 but never text: it comes from a UTF-16 file or
    a spreadsheet's own format, and PostgreSQL cannot store it.
    """
    errors = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            byte = raw[error.start]
            errors.append(
                RowError(
                    number,
                    f"not valid UTF-8 (byte 0x{byte:02x} at position "
                    f"{error.start + 1}); save the file as UTF-8",
                )
            )
            continue
        if (nul := raw.find(b"\x00")) != -1:
            errors.append(
                RowError(
                    number,
                    f"a NUL byte (0x00 at position {nul + 1}), which is not text; "
                    "save the file as UTF-8",
                )
            )
    return errors


def _header(cells, line):
    names = [cell.strip().lower() for cell in cells]
    errors = []
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    if unknown := [name for name in names if name not in known]:
        listed = ", ".join(repr(name) for name in unknown[:UNKNOWN_COLUMNS_SHOWN])
        if len(unknown) > UNKNOWN_COLUMNS_SHOWN:
            listed += f" and {len(unknown) - UNKNOWN_COLUMNS_SHOWN} more"
        errors.append(
            RowError(
                line,
                f"unknown column(s) {listed}; the columns are {', '.join(COLUMNS)}",
            )
        )
    # Counted once: counting each name's copies again was quadratic in the
    # number of columns.
    counts = Counter(names)
    if doubled := sorted(name for name, count in counts.items() if count > 1):
        errors.append(RowError(line, f"column(s) named twice: {', '.join(doubled)}"))
    if missing := [name for name in REQUIRED_COLUMNS if name not in counts]:
        errors.append(
            RowError(line, f"missing required column(s): {', '.join(missing)}")
        )
    return names, errors


def _row(header, cells, line):
    if len(cells) != len(header):
        return None, [f"expected {len(header)} fields, found {len(cells)}"]
    cell = {name: value.strip() for name, value in zip(header, cells, strict=True)}
    reasons = []
    values = {}
    for name, check in CHECKS.items():
        value = cell.get(name, "")
        if not value:
            if name in REQUIRED_COLUMNS:
                reasons.append(f"{name} is required")
            continue
        try:
            values[name] = check(value)
        except ValueError as error:
            reasons.append(str(error))
    if reasons:
        return None, reasons
    if "variant_sku" in header:
        values.setdefault("variant_sku", values["sku"])
    return ProductRow(line=line, **values), []


def _text(name, longest=None, *, multiline=False):
    """A check of a text cell: printable (core.text), then NFC, then length.

    The length is the stored one, counted after NFC composes the text.
    """

    def check(value):
        if (index := find_control_character(value, multiline=multiline)) != -1:
            raise ValueError(
                f"{name} holds the control character U+{ord(value[index]):04X}; "
                "use printable text only"
            )
        value = normalize(value)
        if longest is not None and len(value) > longest:
            raise ValueError(
                f"{name} is {len(value)} characters long; at most {longest}"
            )
        return value

    return check


def _price(value):
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(f"price {value!r} is not an amount such as 12.50")
    if amount <= 0:
        raise ValueError(f"price {value} must be above 0")
    if amount > MAX_PRICE:
        raise ValueError(f"price {value} is above the largest, {MAX_PRICE}")
    if amount != quantize_money(amount):
        raise ValueError(f"price {value} has more than two decimal places")
    return quantize_money(amount)


def _stock(value):
    if not WHOLE_NUMBER.fullmatch(value):
        raise ValueError(f"stock {value!r} is not a whole number")
    units = int(value)
    if units < 0:
        raise ValueError(f"stock {units} is negative")
    if units > MAX_STOCK:
        raise ValueError(f"stock {units} is above the largest, {MAX_STOCK}")
    return units


def _is_active(value):
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"is_active {value!r} is not true or false")


def _slug(value):
    longest = Product._meta.get_field("slug").max_length
    try:
        validate_slug(value)
    except ValidationError:
        raise ValueError(
            f"slug {value!r} may hold only letters, digits, hyphens and underscores"
        ) from None
    return _text("slug", longest)(value)


def _category(value):
    try:
        validate_slug(value)
    except ValidationError:
        raise ValueError(f"category {value!r} is not a category slug") from None
    return value


def _options(value):
    options: dict[str, str] = {}
    for part in value.split(";"):
        name, equals, option = part.partition("=")
        name, option = normalize(name.strip()), normalize(option.strip())
        if not part.strip():
            continue
        if not equals or not name or not option:
            raise ValueError(f"options {value!r} are not written as Size=M; Colour=Red")
        if name in options:
            raise ValueError(f"options name {name} twice")
        if find_control_character(name + option, multiline=False) != -1:
            raise ValueError("options hold a control character; use printable text")
        options[name] = option
    return options


def _compare_at_price(value):
    try:
        return _price(value)
    except ValueError as error:
        raise ValueError(f"compare_at_{error}") from None


def _variant_is_active(value):
    try:
        return _is_active(value)
    except ValueError as error:
        raise ValueError(f"variant_{error}") from None


CHECKS = {
    "sku": _text("sku", Product._meta.get_field("sku").max_length),
    "name": _text("name", Product._meta.get_field("name").max_length),
    "price": _price,
    "category": _category,
    "slug": _slug,
    "stock": _stock,
    "is_active": _is_active,
    "description": _text("description", multiline=True),
    "variant_sku": _text("variant_sku", Product._meta.get_field("sku").max_length),
    "options": _options,
    "compare_at_price": _compare_at_price,
    "variant_is_active": _variant_is_active,
}
