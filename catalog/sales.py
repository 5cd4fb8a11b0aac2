"""Sale prices: the one place that computes what a sale takes off a variant.

A variant's `sale_price` is the lowest price that the sales in force give
it (percentage off, rounded half up to the cent, or an amount off; never
below one cent), None when no sale lowers it. It is written onto the rows
so that the product list filters and orders by the price shoppers pay; the
stock service's callers (catalog.services) write it again at every start and
end of a sale and after every price change, and say when it next goes stale.
"""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import Min, Q

from catalog.models import Category, Product, ProductVariant, Sale

# A percentage sale's price: ROUND on numeric rounds half away from zero,
# which for prices is half up.
SALE_PRICE_SQL = (
    "GREATEST(0.01, CASE WHEN s.{kind} = 'percentage' "
    "THEN ROUND(v.{price} * (100 - s.{value}) / 100, 2) "
    "ELSE v.{price} - s.{value} END)"
)


def next_change_after(moment: datetime) -> datetime | None:
    """The first start or end of a sale after `moment` (None: none is scheduled)."""
    found = Sale.objects.filter(is_active=True).aggregate(
        start=Min("starts_at", filter=Q(starts_at__gt=moment)),
        end=Min("ends_at", filter=Q(ends_at__gt=moment)),
    )
    moments = [found["start"], found["end"]]
    return min((each for each in moments if each is not None), default=None)


def write_sale_prices(
    *, at: datetime, product_ids: Collection[int] | None = None
) -> set[int]:
    """Write the sale prices that the sales in force at `at` give the variants.

    Only the variants of `product_ids` when given, else every variant that
    a sale covers or that holds a sale price. The rows that change are locked
    in id order first (as the stock service locks them). Returns the ids of
    the products whose variants changed, for their "from" price.
    """
    if product_ids is not None and not product_ids:
        return set()
    sales = list(Sale.objects.in_force(at).values_list("pk", flat=True))
    statement, params = _changes_statement(sales, product_ids)
    connection = connections[router.db_for_write(ProductVariant)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ({statement}) AS changed", params)  # nosec B608
        changed = [row[0] for row in cursor.fetchall()]
    if not changed:
        return set()
    # Locked in id order before the write, as every stock change locks them.
    list(
        ProductVariant.objects.select_for_update()
        .filter(pk__in=changed)
        .order_by("pk")
        .values_list("pk")
    )
    table = connection.ops.quote_name(ProductVariant._meta.db_table)
    column = _columns(ProductVariant, "id", "sale_price", "product_id")
    row_id = f"{table}.{column['id']}"
    # Accepted bandit B608: only names from the models' _meta are formatted in.
    update = (
        f"UPDATE {table} SET {column['sale_price']} = changed.sale_price "  # nosec B608
        f"FROM ({statement}) AS changed "
        f"WHERE {row_id} = changed.id AND {row_id} = ANY(%s) "
        f"RETURNING {table}.{column['product_id']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(update, [*params, changed])
        return {row[0] for row in cursor.fetchall()}


def _changes_statement(
    sales: list[int], product_ids: Collection[int] | None
) -> tuple[str, list[Any]]:
    """SELECT (id, product_id, sale_price) of the variants whose sale price changes."""
    quote = connections[router.db_for_write(ProductVariant)].ops.quote_name
    v = _columns(ProductVariant, "id", "product_id", "price", "sale_price")
    p = _columns(Product, "id", "category_id")
    s = _columns(Sale, "id", "kind", "value")
    variants = quote(ProductVariant._meta.db_table)
    products = quote(Product._meta.db_table)
    sale_rows = quote(Sale._meta.db_table)
    price = SALE_PRICE_SQL.format(kind=s["kind"], value=s["value"], price=v["price"])
    by_variant = _through(Sale.variants.through, "sale", "productvariant")
    by_product = _through(Sale.products.through, "sale", "product")
    in_force = f"JOIN {sale_rows} s ON s.{s['id']} = "
    params: list[Any] = []

    def covered(join: str, *join_params: Any) -> str:
        params.extend(join_params)
        select = f"SELECT v.{v['id']} AS variant_id, {price} AS price"
        return f"{select} FROM {variants} v {join}"

    parts = [
        covered(
            f"JOIN {by_variant['table']} t "
            f"ON t.{by_variant['productvariant']} = v.{v['id']} "
            f"{in_force}t.{by_variant['sale']} WHERE s.{s['id']} = ANY(%s)",
            sales,
        ),
        covered(
            f"JOIN {by_product['table']} t "
            f"ON t.{by_product['product']} = v.{v['product_id']} "
            f"{in_force}t.{by_product['sale']} WHERE s.{s['id']} = ANY(%s)",
            sales,
        ),
    ]
    category_pairs = _sale_categories(sales)
    if category_pairs:
        parts.append(
            covered(
                f"JOIN {products} p ON p.{p['id']} = v.{v['product_id']} "
                "JOIN unnest(%s::bigint[], %s::bigint[]) AS c (sale_id, category_id) "
                f"ON c.category_id = p.{p['category_id']} {in_force}c.sale_id",
                [pair[0] for pair in category_pairs],
                [pair[1] for pair in category_pairs],
            )
        )
    scope = ""
    if product_ids is not None:
        scope = f"AND v.{v['product_id']} = ANY(%s)"
        params.append(list(product_ids))
    # A variant keeps a sale price only where it is below its own price.
    sale_price = f"CASE WHEN best.price < v.{v['price']} THEN best.price END"
    # Accepted bandit B608: only names from the models' _meta are formatted in.
    statement = (
        f"SELECT v.{v['id']} AS id, v.{v['product_id']} AS product_id, "  # nosec B608
        f"{sale_price} AS sale_price FROM {variants} v LEFT JOIN ("
        "SELECT variant_id, MIN(price) AS price "
        f"FROM ({' UNION ALL '.join(parts)}) AS covered GROUP BY variant_id) AS best "
        f"ON best.variant_id = v.{v['id']} "
        f"WHERE (best.variant_id IS NOT NULL OR v.{v['sale_price']} IS NOT NULL) "
        f"{scope} AND v.{v['sale_price']} IS DISTINCT FROM ({sale_price})"
    )
    return statement, params


def _sale_categories(sales: list[int]) -> list[tuple[int, int]]:
    """(sale id, category id) for each category a sale covers, subcategories too."""
    through = Sale.categories.through.objects.filter(sale_id__in=sales)
    pairs = list(through.values_list("sale_id", "category_id"))
    if not pairs:
        return []
    subtrees: dict[int, set[int]] = {}
    covered: set[tuple[int, int]] = set()
    for sale_id, category_id in pairs:
        if category_id not in subtrees:
            subtrees[category_id] = Category.objects.subtree_ids(category_id)
        covered.update((sale_id, each) for each in subtrees[category_id])
    return sorted(covered)


def _columns(model: type[Any], *names: str) -> dict[str, str]:
    """The quoted column of each named field (by name or attribute name)."""
    quote = connections[router.db_for_write(model)].ops.quote_name
    fields = {field.attname: field for field in model._meta.concrete_fields}
    fields.update({field.name: field for field in model._meta.concrete_fields})
    return {name: quote(fields[name].column) for name in names}


def _through(model: type[Any], *names: str) -> dict[str, str]:
    """A many-to-many table's quoted name and its two foreign key columns."""
    quote = connections[router.db_for_write(model)].ops.quote_name
    columns = {field.name: quote(field.column) for field in model._meta.concrete_fields}
    return {
        "table": quote(model._meta.db_table),
        **{name: columns[name] for name in names},
    }
