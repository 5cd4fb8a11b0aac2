"""The catalog's writes: products, and the one stock service.

Every change of a product's stock goes through this module, which writes an
append-only StockMovement in the same transaction as the change, so that a
product's stock always equals the sum of its movements. A change locks the
products' rows first, in product id order, and checks the figures it then
reads, so it cannot go below zero however many checkouts race; the
database's check constraint refuses a negative figure from anywhere else.

The catalog cache needs no call from here for products and categories: the
catalog QuerySets' update() and the models' save() invalidate it after
commit (see catalog/cache.py). The stock changes, written in one raw
statement, and `import_products`, which writes through the plain base
managers, invalidate it themselves, once per change or import.
"""

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog import cache, images
from catalog.exceptions import ImportRejected, InsufficientStock, RowError, Shortage
from catalog.models import Category, Product, StockMovement, slug_max_length
from catalog.product_csv import ProductRow

logger = logging.getLogger(__name__)

Reason = StockMovement.Reason


class ProductChanges(TypedDict, total=False):
    """What update_product may change: the product's fields and its stock."""

    sku: str
    name: str
    slug: str
    description: str
    price: Decimal
    is_active: bool
    category: Category
    # The first picture: a new file replaces it, None removes it.
    image: "File[bytes] | str | None"
    stock: int


# The fields set as given; a new stock figure is recorded as an adjustment.
PRODUCT_FIELDS = ProductChanges.__optional_keys__ - {"stock"}


# --- Products -----------------------------------------------------------------


@transaction.atomic
def create_product(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    description: str = "",
    slug: str = "",
    stock: int = 0,
    is_active: bool = True,
    image: "File[bytes] | str | None" = None,
    user: User | None = None,
    reason: str = Reason.INITIAL,
    reference: str = "",
) -> Product:
    """Create a product; its initial stock is recorded as its first movement."""
    if stock < 0:
        raise ValidationError({"stock": "Stock cannot be negative."})
    product = Product(
        sku=sku,
        name=name,
        slug=slug,
        category=category,
        price=price,
        description=description,
        stock=stock,
        is_active=is_active,
    )
    product.save()
    if image:
        images.add_image(product=product, image=image)
    if stock:
        StockMovement.objects.create(
            product=product,
            sku=product.sku,
            quantity=stock,
            stock_after=stock,
            reason=reason,
            reference=reference,
            user=user,
        )
    return product


@transaction.atomic
def update_product(
    *, product: Product, user: User | None = None, **changes: Unpack[ProductChanges]
) -> Product:
    """Change a product's fields; a new `stock` figure becomes an adjustment."""
    stock = changes.pop("stock", None)
    has_image, image = "image" in changes, changes.pop("image", None) or None
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"update_product() cannot change {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(product, field, value)
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    if has_image:
        images.replace_main_image(product=product, image=image)
    if stock is not None:
        set_stock(product=product, stock=stock, user=user)
    return product


def set_products_active(*, products: models.QuerySet[Product], is_active: bool) -> int:
    """Activate or deactivate many products at once; return how many."""
    return products.update(is_active=is_active, updated_at=timezone.now())


# --- Stock --------------------------------------------------------------------


@transaction.atomic
def adjust_stock(
    *,
    product: Product,
    quantity: int,
    reason: str = Reason.ADJUSTMENT,
    reference: str = "",
    user: User | None = None,
) -> Product:
    """Add (positive) or remove (negative) units; never below zero."""
    if not isinstance(quantity, int) or quantity == 0:
        raise ValidationError({"quantity": "Adjust stock by a non-zero whole number."})
    _, shortages = _change(
        changes={product.pk: quantity},
        reason=reason,
        reference=reference,
        user=user,
        require_active=False,
    )
    if shortages:
        raise InsufficientStock(shortages)
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product


@transaction.atomic
def set_stock(
    *,
    product: Product,
    stock: int,
    reason: str = Reason.ADJUSTMENT,
    reference: str = "",
    user: User | None = None,
) -> Product:
    """Set the stock on hand to a counted figure, recording the difference."""
    if not isinstance(stock, int) or stock < 0:
        raise ValidationError({"stock": "Stock must be a whole number, 0 or more."})
    # Locked, so that no sale lands between reading the figure and writing
    # the difference.
    current = Product.objects.select_for_update().values_list("stock", flat=True)
    difference = stock - current.get(pk=product.pk)
    if difference:
        _change(
            changes={product.pk: difference},
            reason=reason,
            reference=reference,
            user=user,
            require_active=False,
        )
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product


def take_stock(
    *,
    lines: Iterable[tuple[int, int]],
    reason: str = Reason.SALE,
    reference: str = "",
    user: User | None = None,
    require_active: bool = True,
) -> list[StockMovement]:
    """Take units of several products at once: all lines, or none.

    `lines` are (product_id, quantity) pairs; a product named twice is taken
    once for the sum. Raises InsufficientStock listing every line that the
    stock on hand cannot cover (and, with `require_active`, every inactive
    product), and then takes nothing. Returns the movements in product id
    order, each with its `product` as the change left it: locked until the
    transaction ends, so its price and name are those in force at the sale.
    """
    totals = _positive_totals(lines)
    movements, shortages = _change(
        changes={pk: -quantity for pk, quantity in totals.items()},
        reason=reason,
        reference=reference,
        user=user,
        require_active=require_active,
    )
    if shortages:
        raise InsufficientStock(shortages)
    return movements


def return_stock(
    *,
    lines: Iterable[tuple[int, int]],
    reason: str = Reason.CANCELLATION,
    reference: str = "",
    user: User | None = None,
) -> list[StockMovement]:
    """Put units back (a cancelled order, an expired reservation).

    Products deleted since are skipped: there is no stock left to restore.
    """
    totals = _positive_totals(lines)
    movements, _ = _change(
        changes=totals,
        reason=reason,
        reference=reference,
        user=user,
        require_active=False,
    )
    return movements


def _positive_totals(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    totals: defaultdict[int, int] = defaultdict(int)
    for product_id, quantity in lines:
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValidationError({"quantity": "Quantities must be whole numbers ≥ 1."})
        totals[product_id] += quantity
    return dict(totals)


# No savepoint: nothing is written until every change is known to fit, and a
# shortage is returned for the caller to raise outside this block. A checkout
# calling this inside its own transaction saves a SAVEPOINT and a RELEASE, and
# a caller that catches the shortage keeps a usable transaction.
@transaction.atomic(savepoint=False)
def _change(
    *,
    changes: dict[int, int],
    reason: str,
    reference: str,
    user: User | None,
    require_active: bool,
) -> tuple[list[StockMovement], list[Shortage]]:
    """Apply signed stock changes {product_id: units}, all or none.

    Returns (movements, []) once applied, or ([], shortages) with nothing
    changed when a removal finds too few units or, with `require_active`, an
    inactive or missing product.
    """
    # Rows are locked in product id order: two transactions that share
    # products wait for each other instead of deadlocking, and the figures
    # read are the current ones until this transaction ends.
    locked = {
        pk: (sku, stock, is_active)
        for pk, sku, stock, is_active in Product.objects.select_for_update()
        .filter(pk__in=changes)
        .order_by("pk")
        .values_list("pk", "sku", "stock", "is_active")
    }
    shortages: list[Shortage] = []
    for product_id in sorted(changes):
        quantity = changes[product_id]
        if quantity >= 0:
            if product_id not in locked:
                logger.warning(
                    "Stock of product %s not restored (%s): it no longer exists",
                    product_id,
                    reason,
                )
            continue
        sku, stock, is_active = locked.get(product_id, ("", 0, False))
        if stock < -quantity or (require_active and not is_active):
            # An inactive product has no units for sale.
            available = stock if is_active else 0
            shortages.append(
                Shortage(product_id, sku, -quantity, available, is_active=is_active)
            )
    if shortages:
        return [], shortages
    products = _apply_changes({pk: changes[pk] for pk in sorted(locked)})
    cache.invalidate()
    movements = StockMovement.objects.bulk_create(
        StockMovement(
            product=product,
            sku=product.sku,
            quantity=changes[product.pk],
            stock_after=product.stock,
            reason=reason,
            reference=reference,
            user=user,
        )
        for product in products
    )
    return movements, []


# What a stock change reads back of each product (the others stay deferred):
# what movements and order lines record.
CHANGED_PRODUCT_FIELDS = (
    "id",
    "sku",
    "name",
    "price",
    "stock",
    "is_active",
    "updated_at",
)


def _apply_changes(changes: dict[int, int]) -> list[Product]:
    """Add {product_id: units} to the stock of locked rows; return them after.

    One `UPDATE ... FROM (VALUES ...) RETURNING` for every product, where
    an update() per product costs a statement each and a read after.
    """
    if not changes:
        return []
    connection = connections[router.db_for_write(Product)]
    quote = connection.ops.quote_name
    table = quote(Product._meta.db_table)
    by_attname = {field.attname: field for field in Product._meta.concrete_fields}
    column = {name: quote(_column(by_attname[name])) for name in CHANGED_PRODUCT_FIELDS}
    returning = ", ".join(f"{table}.{column[name]}" for name in CHANGED_PRODUCT_FIELDS)
    # Accepted bandit B608: only column and table names from the model's own
    # metadata are formatted in; every value is bound.
    statement = (
        f"UPDATE {table} SET {column['stock']} = {table}.{column['stock']} + "  # nosec B608
        f"v.units, {column['updated_at']} = %s FROM (VALUES "
        + ", ".join(["(%s, %s)"] * len(changes))
        + f") AS v (id, units) WHERE {table}.{column['id']} = v.id "
        f"RETURNING {returning}"
    )
    params: list[object] = [timezone.now()]
    for product_id, units in changes.items():
        params += [product_id, units]
    products = Product.objects.raw(statement, params, using=connection.alias)
    return sorted(products, key=lambda product: product.pk)


# --- Imports ------------------------------------------------------------------

# The fields an import compares and writes, by their attribute names.
IMPORT_FIELDS = ("name", "slug", "description", "price", "is_active", "category_id")

# A product's field values by attribute name, as QuerySet.values() gives them.
type FieldValues = dict[str, Any]
# A row to write: the row, the product's values before (None for a new
# product), its values after, and the names of those that change.
type PlannedRow = tuple[ProductRow, FieldValues | None, FieldValues, tuple[str, ...]]


@dataclasses.dataclass
class ImportResult:
    """What an import changed (or, in a dry run, would change)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stock_movements: int = 0
    categories_created: list[str] = dataclasses.field(default_factory=list)
    # (line, sku, "created" or "updated", the fields that changed)
    changes: list[tuple[int, str, str, tuple[str, ...]]] = dataclasses.field(
        default_factory=list
    )


@transaction.atomic
def import_products(
    *,
    rows: Iterable[ProductRow],
    create_categories: bool = False,
    dry_run: bool = False,
    reference: str = "",
    user: User | None = None,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Create or update products from import rows, matched by SKU, all or nothing.

    `rows` (catalog.product_csv.ProductRow) are first checked against the
    catalog: a missing category (made at the top level with
    `create_categories`) or a taken slug rejects the import (ImportRejected,
    naming every bad row). A stock figure becomes an `import` movement of the
    difference, the products locked in id order until commit, so the ledger
    adds up whatever sells meanwhile. `progress(done, total)` follows each
    batch; with `dry_run`, nothing is written.
    """
    rows = list(rows)
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more.")
    current = _products_by_sku(
        [row.sku for row in rows], lock=not dry_run, batch_size=batch_size
    )
    category_ids: dict[str, int | str] = dict(
        Category.objects.values_list("slug", "pk")
    )
    errors: list[RowError] = []
    new_categories: list[str] = []
    for row in rows:
        if row.category in category_ids or row.category in new_categories:
            continue
        if create_categories:
            new_categories.append(row.category)
        else:
            errors.append(
                RowError(
                    row.line,
                    f"unknown category {row.category!r} (use --create-categories "
                    "to create it)",
                )
            )
    slugs = _import_slugs(rows, current, errors, batch_size)
    if errors:
        raise ImportRejected(errors)

    result = ImportResult(categories_created=new_categories)
    if new_categories and not dry_run:
        created = Category._base_manager.bulk_create(
            Category(name=slug.replace("-", " ").capitalize(), slug=slug)
            for slug in new_categories
        )
        category_ids.update((category.slug, category.pk) for category in created)
    elif new_categories:
        # Stand-ins, unequal to any existing category, for the comparison.
        category_ids.update((slug, f"new:{slug}") for slug in new_categories)

    plan: list[PlannedRow] = []
    for row in rows:
        target: FieldValues = {
            "name": row.name,
            "slug": slugs[row.line],
            "price": row.price,
            "category_id": category_ids[row.category],
        }
        if row.description is not None:
            target["description"] = row.description
        if row.is_active is not None:
            target["is_active"] = row.is_active
        if row.stock is not None:
            target["stock"] = row.stock
        before = current.get(row.sku)
        if before is None:
            changed = tuple(target)
            result.created += 1
            result.changes.append(
                (row.line, row.sku, "created", _column_names(changed))
            )
            if target.get("stock"):
                result.stock_movements += 1
        else:
            changed = tuple(name for name in target if target[name] != before[name])
            if not changed:
                result.unchanged += 1
                continue
            result.updated += 1
            result.changes.append(
                (row.line, row.sku, "updated", _column_names(changed))
            )
            if "stock" in changed:
                result.stock_movements += 1
        plan.append((row, before, target, changed))
    if dry_run:
        return result

    for start in range(0, len(plan), batch_size):
        _write_import_batch(plan[start : start + batch_size], reference, user)
        if progress is not None:
            progress(min(start + batch_size, len(plan)), len(plan))
    if plan or new_categories:
        cache.invalidate()
    return result


def _column_names(fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(name.removesuffix("_id") for name in fields)


def _products_by_sku(
    skus: Sequence[str], *, lock: bool, batch_size: int
) -> dict[str, FieldValues]:
    """The products with these SKUs, as {sku: values}, locked in id order."""
    ids: list[int] = []
    for start in range(0, len(skus), batch_size):
        chunk = skus[start : start + batch_size]
        ids.extend(Product.objects.filter(sku__in=chunk).values_list("pk", flat=True))
    ids.sort()
    products = Product.objects.order_by("pk")
    if lock:
        products = products.select_for_update()
    found: dict[str, FieldValues] = {}
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        for values in products.filter(pk__in=batch).values(
            "pk", "sku", "stock", *IMPORT_FIELDS
        ):
            found[values["sku"]] = values
    return found


def _import_slugs(
    rows: Sequence[ProductRow],
    current: dict[str, FieldValues],
    errors: list[RowError],
    batch_size: int,
) -> dict[int, str]:
    """Each row's slug, {line: slug}; appends an error per slug already taken.

    A slug another product holds now is refused even if the file moves that
    product to another slug: the database checks each row as it changes.
    """
    asked = sorted({row.slug for row in rows if row.slug})
    holders: dict[str, str] = {}
    for start in range(0, len(asked), batch_size):
        chunk = asked[start : start + batch_size]
        holders.update(
            Product.objects.filter(slug__in=chunk).values_list("slug", "sku")
        )
    slugs: dict[int, str] = {}
    claimed: dict[str, int] = {}
    derive: list[ProductRow] = []
    for row in rows:
        before = current.get(row.sku)
        if not row.slug:
            if before is None:
                derive.append(row)
            else:
                slugs[row.line] = before["slug"]
            continue
        holder = holders.get(row.slug)
        if holder is not None and holder != row.sku:
            errors.append(
                RowError(row.line, f"slug {row.slug!r} belongs to product {holder}")
            )
        elif row.slug in claimed:
            errors.append(
                RowError(
                    row.line,
                    f"slug {row.slug!r} is already given on line {claimed[row.slug]}",
                )
            )
        else:
            claimed[row.slug] = row.line
            slugs[row.line] = row.slug
    if derive:
        taken = set(Product.objects.values_list("slug", flat=True)) | set(claimed)
        longest = slug_max_length(Product)
        for row in derive:
            # As SluggedModel derives one: the name, then -2, -3…
            base = slugify(row.name)[: longest - 8].strip("-") or "product"
            slug, suffix = base, 2
            while slug in taken:
                slug, suffix = f"{base}-{suffix}", suffix + 1
            taken.add(slug)
            slugs[row.line] = slug
    return slugs


def _write_import_batch(
    plan: Sequence[PlannedRow], reference: str, user: User | None
) -> None:
    """Write one batch of an import: three statements whatever its size."""
    now = timezone.now()
    new_products: list[Product] = []
    updated_rows: list[FieldValues] = []
    fields: set[str] = set()
    movements: list[StockMovement] = []
    for row, before, target, changed in plan:
        if before is None:
            defaults: FieldValues = {"description": "", "is_active": True, "stock": 0}
            new_products.append(Product(sku=row.sku, **{**defaults, **target}))
            continue
        # Every field is given: the update writes the batch's changed fields
        # of every row, so the unchanged ones must hold their current value.
        updated_rows.append({**before, **target, "updated_at": now})
        fields.update(changed)
        if "stock" in changed:
            movements.append(
                StockMovement(
                    product_id=before["pk"],
                    sku=row.sku,
                    quantity=target["stock"] - before["stock"],
                    stock_after=target["stock"],
                    reason=Reason.IMPORT,
                    reference=reference,
                    user=user,
                )
            )
    # The base manager writes without scheduling a cache invalidation per
    # batch; import_products invalidates once at the end.
    Product._base_manager.bulk_create(new_products)
    if updated_rows:
        _update_rows(Product, updated_rows, [*sorted(fields), "updated_at"])
    movements.extend(
        StockMovement(
            product_id=product.pk,
            sku=product.sku,
            quantity=product.stock,
            stock_after=product.stock,
            reason=Reason.IMPORT,
            reference=reference,
            user=user,
        )
        for product in new_products
        if product.stock
    )
    StockMovement.objects.bulk_create(movements)


def _update_rows(
    model: type[models.Model], rows: Sequence[FieldValues], fields: Sequence[str]
) -> None:
    """Write `fields` (attribute names) of many rows, {"pk": …, field: …}, at once.

    One PostgreSQL `WITH v AS (VALUES …) UPDATE … FROM v` statement per
    batch, where Django's bulk_update() compiles a CASE WHEN per row and
    field (bench/README.md has the figures).
    """
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    columns = [meta.pk, *(by_attname[name] for name in fields)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = [quote(_column(column)) for column in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = connection.ops.bulk_batch_size(columns, rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [
                value
                for row in chunk
                for value in (
                    row["pk"],
                    *(
                        column.get_db_prep_save(row[column.attname], connection)
                        for column in columns[1:]
                    ),
                )
            ]
            # Accepted bandit B608: only column and table names from the
            # model's own metadata are formatted in; every value is bound.
            statement = (
                f"WITH v ({', '.join(names)}) AS (VALUES "
                + ", ".join([row_sql] * len(chunk))
                + f") UPDATE {table} SET {assignments} FROM v "  # nosec B608
                f"WHERE {table}.{names[0]} = v.{names[0]}"
            )
            cursor.execute(statement, params)


def _column(field: "models.Field[Any, Any]") -> str:
    # Every concrete field has its column.
    assert field.column is not None
    return field.column
