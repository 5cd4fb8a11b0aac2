"""The product list's query parameters, shared by the API and the catalog pages.

Every parameter is a form field with a fixed set of valid values, so that a
bad value is never silently taken for another: the API answers 400 naming
the parameter, the pages leave it out and say so.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from catalog import cache
from catalog.models import Category, Product, ProductVariant, option_pair
from catalog.search import RankedProducts, SearchTerms, interpret, matching
from core.filters import StableOrderingFilter
from core.text import PrintableTextValidator

MAX_OPTION_VALUES = 20
TRUE_FALSE = [("true", "true"), ("false", "false")]
RELEVANCE = "relevance"


def category_subtrees() -> dict[str, set[int]]:
    """Map each category's slug to the ids of it and its subcategories.

    Cached under the catalog version, so that a filtered list reads no
    category row while the categories are unchanged.
    """
    return cache.cached(
        "filters:category-subtrees", (), Category.objects.subtree_ids_by_slug
    )


class CategorySlugField(forms.CharField):
    """A category's slug, cleaned to the ids of the category and its subtree."""

    default_error_messages = {
        "invalid_choice": forms.ModelChoiceField.default_error_messages[
            "invalid_choice"
        ],
    }

    def to_python(self, value):
        slug = super().to_python(value)
        if not slug:
            return None
        subtree = category_subtrees().get(slug)
        if subtree is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return subtree


@extend_schema_field(
    {
        "type": "string",
        "description": "A category's slug; includes the products of its "
        "subcategories. An unknown slug is a 400.",
    }
)
class CategorySlugFilter(django_filters.Filter):
    """A category named by its slug (documented as a string, not an id)."""

    field_class = CategorySlugField


class SearchField(forms.CharField):
    """A full-text search, cleaned to the SearchTerms to run (typos corrected)."""

    def clean(self, value):
        text = super().clean(value)
        return interpret(text) if text else None


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class ProductOrderingFilter(StableOrderingFilter):
    """The list's orderings, and `relevance` (the best match first) with a search."""

    def build_choices(self, fields, labels):
        return [*super().build_choices(fields, labels), (RELEVANCE, "Relevance")]

    def get_ordering_value(self, param):
        if param == RELEVANCE:
            return "-search_rank"
        return super().get_ordering_value(param)


class ProductFilterForm(forms.Form):
    def clean(self):
        cleaned_data = super().clean()
        ordering = self.cleaned_data.get("ordering") or ()
        if RELEVANCE in ordering and not self.cleaned_data.get("search"):
            self.add_error("ordering", "Sort by relevance only with a search.")
        return cleaned_data


class OptionValuesField(forms.Field):
    """Repeated `name:value` pairs, cleaned to {name: [values]}."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": "Give each option as name:value, e.g. size:M.",
        "too_many": f"Give at most {MAX_OPTION_VALUES} options.",
    }

    def to_python(self, value):
        if isinstance(value, str):
            value = [value]
        # An empty `option=` is no filter, as for the other parameters.
        value = [pair for pair in value or () if str(pair).strip()]
        if not value:
            return None
        if len(value) > MAX_OPTION_VALUES:
            raise ValidationError(self.error_messages["too_many"], code="too_many")
        wanted: dict[str, list[str]] = {}
        for pair in value:
            # Options are printable text, and PostgreSQL refuses a NUL: a
            # control character is a bad value, not a database error.
            PrintableTextValidator()(pair)
            name, colon, option = str(pair).partition(":")
            name, option = name.strip(), option.strip()
            if not colon or not name or not option:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            wanted.setdefault(name, []).append(option)
        return wanted


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string"},
        "description": "Repeatable `name:value` (e.g. `option=Size:M&option="
        "Colour:Red`), names and values as the product spells them: products "
        "with one active variant matching every name (AND), any of the values "
        "given for a name (OR).",
    }
)
class OptionFilter(django_filters.Filter):
    field_class = OptionValuesField


class ProductFilter(django_filters.FilterSet):
    category = CategorySlugFilter(method="filter_category")
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
    on_sale = django_filters.ChoiceFilter(
        choices=TRUE_FALSE,
        method="filter_on_sale",
        help_text="`true`: only products with an active variant on sale now; "
        "`false`: only those without.",
    )
    option = OptionFilter(method="filter_option")
    is_active = django_filters.ChoiceFilter(
        choices=TRUE_FALSE,
        method="filter_is_active",
        help_text="Staff only (others see active products only): filter by the "
        "active flag.",
    )
    search = SearchFilter(
        method="filter_search",
        max_length=100,
        help_text="Full-text search of the name and SKU, the category and the "
        'options, and the description: words (stemmed), `"quoted phrases"`, '
        "`-excluded` words, `or`. When it finds nothing, the words are matched "
        "to the closest words of product names, and the list's `search` says so.",
    )
    ordering = ProductOrderingFilter(
        fields=["price", "name", "created_at"],
        tie_breaker="-id",
        help_text="Sort key; `-` for descending. Default `-created_at`, or "
        "`relevance` with a search (accepted only with a search).",
    )

    class Meta:
        model = Product
        fields: list[str] = []
        form = ProductFilterForm

    def get_form_class(self):
        # django-filter builds the form class, and every field with it, for
        # each FilterSet. The filters are the same on every request, so it is
        # built once per FilterSet class; each form still copies its fields,
        # as Django's forms do.
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = type(self)._form_class = super().get_form_class()
        return form_class

    def filter_category(self, queryset, name, subtree):
        return queryset.filter(category_id__in=subtree)

    def filter_option(self, queryset, name, wanted: dict[str, list[str]]):
        if len(wanted) == 1:
            # Of one name, any value: the product's own option values tell.
            ((option, values),) = wanted.items()
            return queryset.filter(
                option_values__overlap=[option_pair(option, value) for value in values]
            )
        # One active variant must match every name: containment (@>) on its
        # options, which the GIN index serves.
        variants = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        for option, values in wanted.items():
            any_value = Q()
            for value in values:
                any_value |= Q(options__contains={option: value})
            variants = variants.filter(any_value)
        return queryset.filter(Exists(variants))

    def filter_in_stock(self, queryset, name, value: str):
        return queryset.in_stock() if value == "true" else queryset.out_of_stock()

    def filter_on_sale(self, queryset, name, value: str):
        return queryset.on_sale() if value == "true" else queryset.not_on_sale()

    def filter_is_active(self, queryset, name, value: str):
        return queryset.filter(is_active=value == "true")

    def filter_search(self, queryset, name, terms: SearchTerms):
        return matching(queryset, terms.used)

    def results(self) -> QuerySet[Product] | RankedProducts:
        """The filtered products for a paginator: a search's are RankedProducts."""
        terms = self.search_terms()
        if terms is None:
            return self.qs
        ordering = self.form.cleaned_data.get("ordering")
        return RankedProducts(
            self.qs, terms.used, by_relevance=not ordering or ordering[0] == RELEVANCE
        )

    def search_terms(self) -> SearchTerms | None:
        """The search that was run, once the FilterSet is valid (None: none)."""
        return self.form.cleaned_data.get("search")


class ProductFacetFilter(ProductFilter):
    """The list's filters that the facets take: counts are of active products."""

    # None leaves the parent's filter out (django-filter's declared filters).
    ordering = None  # type: ignore[assignment]
    is_active = None
