"""The product facets: for the current filters, how many products each choice shows.

Counted over the active products that match every other filter: a facet
never filters itself (the category counts leave `category` out, the price
ranges `min_price` and `max_price`, the stock counts `in_stock`), so each
count is what the list would show with that choice made instead. The
filters are the list's own (`ProductFacetFilter`), so the counts and the
list agree by construction.
"""

from collections import defaultdict
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django_filters.constants import EMPTY_VALUES

from catalog import cache
from catalog.filters import ProductFacetFilter, ProductFilter
from catalog.models import Category, Product
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


def facets_of(filterset: ProductFilter) -> ProductFacets:
    """The facets of a validated FilterSet's valid values (its products active).

    Only the facets' filters count (a list's ordering does not). The stock
    counts and the price ranges are read by one aggregate per set of
    filters they leave out: one for both when neither filter is given.
    """
    given = {
        name
        for name, value in filterset.form.cleaned_data.items()
        if value not in EMPTY_VALUES
    }
    price_field = filterset.filters["min_price"].field_name
    bands = price_bands()
    aggregates: defaultdict[frozenset[str], dict[str, Count]] = defaultdict(dict)
    aggregates[frozenset({"in_stock"} & given)].update(
        # As ProductQuerySet.in_stock() and out_of_stock() tell them.
        stock_true=Count("pk", filter=Q(stock__gt=0)),
        stock_false=Count("pk", filter=Q(stock=0)),
    )
    aggregates[frozenset({"min_price", "max_price"} & given)].update(
        {
            f"band_{number}": Count(
                "pk",
                filter=Q(**{f"{price_field}__gte": low})
                & (Q(**{f"{price_field}__lt": high}) if high is not None else Q()),
            )
            for number, (low, high) in enumerate(bands)
        }
    )
    counts: dict[str, int] = {}
    for leaving_out, group in aggregates.items():
        counts.update(_filtered(filterset, leaving_out=leaving_out).aggregate(**group))
    stock: StockCounts = {"true": counts["stock_true"], "false": counts["stock_false"]}
    # The list's count is the stock count that its own in_stock value picks.
    count = {"true": stock["true"], "false": stock["false"]}.get(
        filterset.form.cleaned_data.get("in_stock") or "",
        stock["true"] + stock["false"],
    )
    return {
        "count": count,
        "categories": category_counts(_filtered(filterset, leaving_out={"category"})),
        "options": option_counts(_filtered(filterset, leaving_out={"option"})),
        "price_ranges": [
            {
                "min": money(low),
                "max": None if high is None else money(high),
                "count": counts[f"band_{number}"],
            }
            for number, (low, high) in enumerate(bands)
        ],
        "in_stock": stock,
    }


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


def category_counts(products: QuerySet[Product]) -> list[CategoryCount]:
    """Every category, in the shop's order, with the products of its subtree.

    As the `category` filter and `product_count` count: a category counts
    its subcategories' products too.
    """
    direct = dict(
        products.values_list("category_id").annotate(count=Count("pk")).order_by()
    )
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


def option_counts(products: QuerySet[Product]) -> dict[str, list[OptionCount]]:
    """The products per option value of their active variants, by option name.

    Products have no variants yet (the variants work adds them with their
    `options` {name: value}); until then there is no option to count, and
    the answer is empty.
    """
    return {}


def price_bands() -> list[tuple[Decimal, Decimal | None]]:
    """The price bands of CATALOG_PRICE_BANDS: from each bound up to the next."""
    bounds: list[Decimal] = settings.CATALOG_PRICE_BANDS
    return list(zip([Decimal("0.00"), *bounds], [*bounds, None], strict=True))
