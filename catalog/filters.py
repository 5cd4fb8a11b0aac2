"""The product list's query parameters, shared by the API and the catalog pages.

Every parameter is a form field with a fixed set of valid values, so that a
bad value is never silently taken for another: the API answers 400 naming
the parameter, the pages leave it out and say so.
"""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from catalog.models import Category, Product

MAX_SEARCH_WORDS = 10
TRUE_FALSE = [("true", "true"), ("false", "false")]


class StableOrderingFilter(django_filters.OrderingFilter):
    """An ordering with the id as the last key, so pages never overlap."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "-id")
        return qs


@extend_schema_field(
    {
        "type": "string",
        "description": "A category's slug; includes the products of its "
        "subcategories. An unknown slug is a 400.",
    }
)
class CategorySlugFilter(django_filters.ModelChoiceFilter):
    """A category named by its slug (documented as a string, not an id)."""


class ProductFilter(django_filters.FilterSet):
    category = CategorySlugFilter(
        queryset=Category.objects.all(),
        to_field_name="slug",
        method="filter_category",
    )
    min_price = django_filters.NumberFilter(
        field_name="price",
        lookup_expr="gte",
        help_text="Lowest price, inclusive.",
    )
    max_price = django_filters.NumberFilter(
        field_name="price",
        lookup_expr="lte",
        help_text="Highest price, inclusive.",
    )
    in_stock = django_filters.ChoiceFilter(
        choices=TRUE_FALSE,
        method="filter_in_stock",
        help_text="`true`: only products with stock; `false`: only those without.",
    )
    is_active = django_filters.ChoiceFilter(
        choices=TRUE_FALSE,
        method="filter_is_active",
        help_text="Staff only (others see active products only): filter by the "
        "active flag.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Words that must all appear in the name, description or SKU "
        "(case-insensitive).",
    )
    ordering = StableOrderingFilter(
        fields=["price", "name", "created_at"],
        help_text="Sort key; `-` for descending. Default `-created_at`.",
    )

    class Meta:
        model = Product
        fields = []

    def filter_category(self, queryset, name, value):
        return queryset.in_category(value)

    def filter_in_stock(self, queryset, name, value: str):
        return queryset.in_stock() if value == "true" else queryset.out_of_stock()

    def filter_is_active(self, queryset, name, value: str):
        return queryset.filter(is_active=value == "true")

    def filter_search(self, queryset, name, value: str):
        for word in value.split()[:MAX_SEARCH_WORDS]:
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(sku__icontains=word)
            )
        return queryset
