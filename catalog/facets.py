"""The product facets: for the current filters, how many products each choice shows.

Counted over the active products that match every other filter: a facet
never filters itself (the category counts leave `category` out, the price
ranges `min_price` and `max_price`, the stock counts `in_stock`), so each
count is what the list would show with that choice made instead. The
filters are the list's own (`ProductFacetFilter`), so the counts and the
list agree by construction.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple, TypedDict

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django_filters.constants import EMPTY_VALUES

from catalog import cache
from catalog.filters import ProductFacetFilter, ProductFilter
from catalog.models import Category, Product, ProductVariant, option_pair_of
from core.api import money


class CategoryCount(TypedDict):
    slug: str
    name: str
    count: int


class OptionCount(TypedDict):
    value: str
    count: int


class PriceRange(TypedDict):
    min: str
    max: str | None
    count: int


class StockCounts(TypedDict):
    true: int
    false: int


class ProductFacets(TypedDict):
    count: int
    categories: list[CategoryCount]
    options: dict[str, list[OptionCount]]
    price_ranges: list[PriceRange]
    in_stock: StockCounts


def product_facets(data: Mapping[str, Any]) -> ProductFacets:
    """Count the active products for each facet of the list's parameters `data`.

    Raises ValidationError naming each parameter with a bad value, as the
    list does.
    """
    filterset = ProductFacetFilter(data, queryset=Product.objects.active())
    if not filterset.is_valid():
        raise ValidationError(
            {name: list(messages) for name, messages in filterset.errors.items()}
        )
    return facets_of(filterset)


# The filters that the categories, price ranges and stock counts leave out;
# every other filter (the search) narrows the rows all of them count.
FACET_FILTERS = frozenset({"category", "min_price", "max_price", "in_stock"})


class Cell(NamedTuple):
    """How many products of one category, price band and stock state there are.

    `band` is None where the counting statement did not ask for it;
    `in_range` says whether their prices are within min_price..max_price
    (True when neither is given).
    """

    category_id: int
    band: int | None
    in_stock: bool
    in_range: bool
    products: int


def facets_of(filterset: ProductFilter) -> ProductFacets:
    """The facets of a validated FilterSet's valid values (its products active).

    Only the facets' filters count (a list's ordering does not). The rows
    are counted once, grouped by category, price band and stock state
    (`count_cells`), and every facet adds up the cells that pass the
    filters it keeps. Without a search, the cells of the products that the
    other filters (option, on_sale) leave are cached under the catalog
    version; a price filter then costs one count of the products in its
    range, and the other filters none. The option values are counted apart
    (`option_counts`), or, for a search without an option filter, in the
    statement that counts its cells (`count_cells_and_options`).
    """
    data = filterset.form.cleaned_data
    given = {
        name: value
        for name, value in data.items()
        if name in ProductFacetFilter.base_filters and value not in EMPTY_VALUES
    }
    rows: QuerySet[Product] = filterset.queryset.all()
    for name, value in given.items():
        if name not in FACET_FILTERS:
            rows = filterset.filters[name].filter(rows, value)
    price_field = filterset.filters["min_price"].field_name
    price_range = Q(
        *(
            Q(**{f"{price_field}__{filterset.filters[name].lookup_expr}": given[name]})
            for name in ("min_price", "max_price")
            if name in given
        )
    )
    subtree = given.get("category")
    stock_wanted = given.get("in_stock")
    searched_options: dict[str, list[OptionCount]] | None = None
    if "search" in given:
        if "option" in given:
            cells = count_cells(rows, bands=True, price_range=price_range)
        else:
            # A search's matches are read from the table: read once for
            # both the cells and the option values.
            cells, searched_options = count_cells_and_options(
                rows,
                price_range=price_range,
                counted=facet_filters_condition(price_range, subtree, stock_wanted),
            )
        band_cells = cells
    else:
        band_cells = cached_cells(
            rows,
            {name: value for name, value in given.items() if name not in FACET_FILTERS},
        )
        cells = (
            count_cells(rows, bands=False, price_range=price_range)
            if price_range
            else band_cells
        )

    def passes(cell: Cell, *leaving_out: str) -> bool:
        return (
            (
                "category" in leaving_out
                or subtree is None
                or cell.category_id in subtree
            )
            and (
                "in_stock" in leaving_out
                or stock_wanted is None
                or cell.in_stock == (stock_wanted == "true")
            )
            and ("price" in leaving_out or cell.in_range)
        )

    direct: dict[int, int] = defaultdict(int)
    stock: StockCounts = {"true": 0, "false": 0}
    for cell in cells:
        if passes(cell, "category"):
            direct[cell.category_id] += cell.products
        if passes(cell, "in_stock"):
            stock["true" if cell.in_stock else "false"] += cell.products
    bands = price_bands()
    band_counts = [0] * len(bands)
    for cell in band_cells:
        if cell.band is not None and passes(cell, "price"):
            band_counts[cell.band] += cell.products
    # The list's count is the stock count that its own in_stock value picks.
    count = {"true": stock["true"], "false": stock["false"]}.get(
        stock_wanted or "", stock["true"] + stock["false"]
    )
    return {
        "count": count,
        "categories": category_counts(direct),
        "options": searched_options
        if searched_options is not None
        else option_counts(filterset)
        if given
        else cache.cached("facets:options", (), lambda: option_counts(filterset)),
        "price_ranges": [
            {
                "min": money(low),
                "max": None if high is None else money(high),
                "count": band_count,
            }
            for (low, high), band_count in zip(bands, band_counts, strict=True)
        ],
        "in_stock": stock,
    }


def facet_filters_condition(
    price_range: Q, subtree: Collection[int] | None, stock_wanted: str | None
) -> Q:
    """The facets' own filters given (price, category, in_stock) as one condition.

    As the list's filters ask them (`filter_category`, `filter_in_stock`).
    """
    condition = price_range
    if subtree is not None:
        condition &= Q(category_id__in=subtree)
    if stock_wanted is not None:
        condition &= Q(has_stock=stock_wanted == "true")
    return condition


def cached_cells(
    products: QuerySet[Product], narrowing: Mapping[str, Any]
) -> list[Cell]:
    """The cells of `products`, cached under the catalog version.

    `narrowing` holds the filters (no search) that `products` passed, their
    cleaned values the key: an option filter's names and values in order.
    Keyed by the price bands too: their numbers mean nothing under others.
    """
    key = sorted(
        (name, sorted((option, sorted(values)) for option, values in value.items()))
        if isinstance(value, Mapping)
        else (name, value)
        for name, value in narrowing.items()
    )
    return cache.cached(
        "facets:cells",
        [settings.CATALOG_PRICE_BANDS, key],
        lambda: count_cells(products, bands=True, price_range=Q()),
    )


def count_cells(
    products: QuerySet[Product], *, bands: bool, price_range: Q
) -> list[Cell]:
    """`products` counted by category, stock state, price band and price range.

    One statement. The band is left out when `bands` is false; without a
    price range every cell is in range. A price range narrows the rows
    when the bands are not asked for (they are what it leaves out).
    """
    if not bands:
        products = products.filter(price_range)
    rows = (
        _cell_columns(products, bands=bands, price_range=price_range)
        .values_list(*CELL_COLUMNS)
        # COUNT(*): the id is not in the facets' index.
        .annotate(products=Count("*"))
    )
    return [Cell(*row) for row in rows]


# The columns of a cell, as _cell_columns() names them: the facets' index
# (catalog_product_facet_idx) holds every one, so that a count with no
# search reads the index alone.
CELL_COLUMNS = ("category_id", "band_number", "has_stock", "in_price_range")


def _cell_columns(
    products: QuerySet[Product], *, bands: bool, price_range: Q
) -> QuerySet[Product]:
    return (
        # Counted, not listed: the search's ranking and order would only cost.
        products.order_by().annotate(
            band_number=price_band_number() if bands else Value(None, IntegerField()),
            in_price_range=ExpressionWrapper(price_range, output_field=BooleanField())
            if bands and price_range
            else Value(True),
        )
    )


def count_cells_and_options(
    products: QuerySet[Product], *, price_range: Q, counted: Q
) -> tuple[list[Cell], dict[str, list[OptionCount]]]:
    """The cells of `products` (with bands), and the option values of those
    of them that pass `counted` (the filters the cells leave out).

    One statement, which reads the products once: a search's matches come
    from the table, not from the facets' index.
    """
    sql, params = (
        _cell_columns(products, bands=True, price_range=price_range)
        .annotate(
            counted=ExpressionWrapper(counted, output_field=BooleanField())
            if counted
            else Value(True)
        )
        .values_list(*CELL_COLUMNS, "counted", "option_values")
        .query.sql_with_params()
    )
    cells = ", ".join(CELL_COLUMNS)
    # The products grouped first by cell and by their whole set of option
    # values, of which a catalog has few: the sets are taken apart once
    # each, not once a product. Accepted bandit B608: the inner statement
    # is the ORM's, its values bound; the column names are this module's.
    statement = (
        f"WITH g AS (SELECT {cells}, counted, option_values, "  # nosec B608
        f"COUNT(*) AS products FROM ({sql}) "
        f"AS p ({cells}, counted, option_values) "
        f"GROUP BY {cells}, counted, option_values) "
        f"SELECT {cells}, NULL, SUM(products)::bigint FROM g GROUP BY {cells} "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, pair, SUM(products)::bigint "
        "FROM g CROSS JOIN LATERAL unnest(g.option_values) AS pair "
        "WHERE g.counted GROUP BY pair"
    )
    with connections[products.db].cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return (
        [
            Cell(category_id, band, in_stock, in_range, products)
            for category_id, band, in_stock, in_range, pair, products in rows
            if pair is None
        ],
        _by_name(
            (*option_pair_of(pair), products)
            for *_, pair, products in rows
            if pair is not None
        ),
    )


def price_band_number() -> Func:
    """The number of the price band (price_bands()) that a product's price is in.

    PostgreSQL's width_bucket() over the bands' bounds: 0 below the first,
    one more at each bound reached (a tenth quicker than a CASE at 100,000
    products).
    """
    bounds: list[Decimal] = settings.CATALOG_PRICE_BANDS
    return Func(
        F("price"),
        Value(list(bounds), output_field=ArrayField(DecimalField())),
        function="width_bucket",
        output_field=IntegerField(),
    )


def _filtered(
    filterset: ProductFilter, *, leaving_out: Collection[str]
) -> QuerySet[Product]:
    """The FilterSet's products, filtered by its valid values but those named."""
    products: QuerySet[Product] = filterset.queryset.all()
    for name, value in filterset.form.cleaned_data.items():
        if name in ProductFacetFilter.base_filters and name not in leaving_out:
            products = filterset.filters[name].filter(products, value)
    # Counted, not listed: the search's ranking and order would only cost.
    return products.order_by()


def category_counts(direct: Mapping[int, int]) -> list[CategoryCount]:
    """Every category, in the shop's order, with the products of its subtree.

    `direct` maps a category id to the products in that category itself.
    As the `category` filter and `product_count` count: a category counts
    its subcategories' products too.
    """
    categories = category_rows()
    parent_of = {pk: parent_id for pk, parent_id, _, _ in categories}
    totals = dict.fromkeys(parent_of, 0)
    for pk, count in direct.items():
        # Added to the category and every category above it (once each,
        # should the tree hold a cycle that the forms did not stop).
        seen: set[int] = set()
        node: int | None = pk
        while node is not None and node in totals and node not in seen:
            seen.add(node)
            totals[node] += count
            node = parent_of[node]
    return [
        {"slug": slug, "name": name, "count": totals[pk]}
        for pk, _, slug, name in categories
    ]


def category_rows() -> list[tuple[int, int | None, str, str]]:
    """(id, parent id, slug, name) of every category in the shop's order, cached."""
    return cache.cached(
        "facets:categories",
        (),
        lambda: list(Category.objects.values_list("pk", "parent_id", "slug", "name")),
    )


def option_counts(filterset: ProductFilter) -> dict[str, list[OptionCount]]:
    """The products per value of their active variants' options, by option name.

    As the list's `option` filter asks one active variant to match every
    name, a value counts the products with an active variant that has it
    and matches the values given for the other names; the values given for
    its own name are left out, as every facet leaves out its own filter.
    Names in order, each name's values the most common first.
    """
    products = _filtered(filterset, leaving_out={"option"})
    wanted: dict[str, list[str]] = filterset.form.cleaned_data.get("option") or {}
    if not wanted:
        return _pair_counts(products)
    counts = {
        name: values
        for name, values in _value_counts(products, wanted).items()
        if name not in wanted
    }
    for name in wanted:
        others = {other: values for other, values in wanted.items() if other != name}
        counts[name] = (
            _value_counts(products, others, only=name)
            if others
            # No other name to match: the products' own option values tell.
            else _pair_counts(products)
        ).get(name, [])
    return {name: counts[name] for name in sorted(counts) if counts[name]}


def _pair_counts(products: QuerySet[Product]) -> dict[str, list[OptionCount]]:
    """Per option name and value, the `products` with an active variant that has it.

    Counted from the products' own `option_values`, which the services keep:
    one statement over the product rows, no variant read.
    """
    sql, params = products.values("option_values").query.sql_with_params()
    # Grouped by the whole set of values first (a catalog has few), so that
    # each set is taken apart once, not once a product. Accepted bandit
    # B608: the inner statement is the ORM's, its values bound.
    statement = (
        "SELECT pair, SUM(products)::bigint FROM "  # nosec B608
        f"(SELECT option_values, COUNT(*) AS products FROM ({sql}) "
        "AS p (option_values) GROUP BY option_values) AS g "
        "CROSS JOIN LATERAL unnest(g.option_values) AS pair GROUP BY pair"
    )
    with connections[products.db].cursor() as cursor:
        cursor.execute(statement, params)
        return _by_name(
            (*option_pair_of(pair), count) for pair, count in cursor.fetchall()
        )


def _by_name(
    counted: Iterable[tuple[str, str, int]],
) -> dict[str, list[OptionCount]]:
    """(name, value, count) grouped by name, each name's most common value first."""
    found: dict[str, list[OptionCount]] = {}
    for name, value, count in sorted(counted, key=lambda c: (c[0], -c[2], c[1])):
        found.setdefault(name, []).append({"value": value, "count": count})
    return found


def _value_counts(
    products: QuerySet[Product],
    wanted: Mapping[str, list[str]],
    *,
    only: str | None = None,
) -> dict[str, list[OptionCount]]:
    """Per option name and value, the `products` with an active variant that
    has it and matches `wanted` ({name: any of these values}); one statement."""
    variants = ProductVariant.objects.filter(
        is_active=True, product__in=products.values("pk")
    )
    for name, values in wanted.items():
        any_value = Q()
        for value in values:
            any_value |= Q(options__contains={name: value})
        variants = variants.filter(any_value)
    if only is not None:
        variants = variants.filter(options__has_key=only)
    sql, params = (
        variants.order_by().values("product_id", "options").query.sql_with_params()
    )
    # Accepted bandit B608: the inner statement is the ORM's, its values bound.
    statement = (
        "SELECT o.key, o.value, COUNT(DISTINCT v.product_id) "  # nosec B608
        f"FROM ({sql}) AS v (product_id, options) "
        "CROSS JOIN LATERAL jsonb_each_text(v.options) AS o "
        "WHERE %s::text IS NULL OR o.key = %s "
        "GROUP BY o.key, o.value"
    )
    with connections[variants.db].cursor() as cursor:
        cursor.execute(statement, [*params, only, only])
        return _by_name(cursor.fetchall())


def price_bands() -> list[tuple[Decimal, Decimal | None]]:
    """The price bands of CATALOG_PRICE_BANDS: from each bound up to the next."""
    bounds: list[Decimal] = settings.CATALOG_PRICE_BANDS
    return list(zip([Decimal("0.00"), *bounds], [*bounds, None], strict=True))
