"""The storefront's catalog pages: home, the product list, a category, a product.

Thin adapters over `catalog.storefront`, whose reads are cached like the
API's. A bad query value never fails a page: it is left out and the page
says so (the API answers 400 instead).
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.template.response import SimpleTemplateResponse
from django.utils.cache import patch_vary_headers
from django.views.generic import DetailView, TemplateView

from catalog import queries, storefront
from catalog.facets import OptionCount, PriceRange
from catalog.filters import MAX_OPTION_VALUES
from catalog.models import Product
from catalog.storefront import FILTER_PARAMS, OPTION_PARAM, CategoryNode, CategoryTree
from core.api import money
from core.money import CENT

if TYPE_CHECKING:
    # What the mixin's methods extend: a TemplateView's or a DetailView's.
    PageView = TemplateView
else:
    PageView = object

SORT_OPTIONS = [
    ("", "Newest first"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("name", "Name: A to Z"),
    ("-name", "Name: Z to A"),
]
# With a search, the best match comes first unless another order is asked for.
SEARCH_SORT_OPTIONS = [
    ("", "Relevance"),
    ("-created_at", "Newest first"),
    *SORT_OPTIONS[1:],
]

# What the shopper is told about a parameter that was left out.
IGNORED_PARAMETER = {
    "category": "There is no such category, so products of every category are shown.",
    "search": "The search was too long (at most 100 characters), so it was left out.",
    "ordering": "That sort order is unknown, so the newest products come first.",
    "in_stock": "The stock filter was not understood, so it was left out.",
    "min_price": "The lowest price must be a number, so it was left out.",
    "max_price": "The highest price must be a number, so it was left out.",
    OPTION_PARAM: "The options were not understood (each is name:value, at most "
    f"{MAX_OPTION_VALUES} of them), so they were left out.",
}


def price_range_link(facet: PriceRange) -> dict[str, Any]:
    """A price band of the facets with the filter's bounds the sidebar links to.

    The filter's `max_price` is inclusive, the band's `max` is not: prices
    have cents, so the link's range ends a cent below the band's `max`.
    """
    high = facet["max"]
    return {
        **facet,
        "max_price": None if high is None else money(Decimal(high) - CENT),
    }


@dataclass(frozen=True)
class OptionLink:
    """A value in the sidebar's option facet, and the `option` values that its
    link asks for: the chosen ones with this one added, or taken out when it
    is chosen (None: no link, one more would pass MAX_OPTION_VALUES)."""

    value: str
    count: int
    chosen: bool
    options: list[str] | None


@dataclass(frozen=True)
class OptionFacet:
    """An option name in the sidebar: its values, and the `option` values
    that its "clear" link asks for (None: none of its values is chosen)."""

    name: str
    values: list[OptionLink]
    cleared: list[str] | None


def option_facets(
    counts: Mapping[str, list[OptionCount]], chosen: list[str]
) -> list[OptionFacet]:
    """The sidebar's option facets: the facets' counts, by name, linked.

    `chosen` holds the applied `option` values (`name:value`, each part read
    stripped, as the filter reads it). A chosen value that no product has is
    listed too, with 0, so that it can be taken out.
    """
    pairs: set[tuple[str, str]] = set()
    for text in chosen:
        name, _, value = text.partition(":")
        pairs.add((name.strip(), value.strip()))

    def asked(kept: set[tuple[str, str]]) -> list[str]:
        return sorted(f"{name}:{value}" for name, value in kept)

    facets = []
    for name in sorted({*counts, *(option for option, _ in pairs)}):
        own = {pair for pair in pairs if pair[0] == name}
        listed = {entry["value"]: entry["count"] for entry in counts.get(name, [])}
        for _, value in sorted(own):
            listed.setdefault(value, 0)
        values = []
        for value, count in listed.items():
            pair = (name, value)
            options: list[str] | None
            if pair in own:
                options = asked(pairs - {pair})
            elif len(pairs) < MAX_OPTION_VALUES:
                options = asked(pairs | {pair})
            else:
                options = None
            values.append(OptionLink(value, count, pair in own, options))
        facets.append(OptionFacet(name, values, asked(pairs - own) if own else None))
    return facets


def page_number(value: str | None) -> int:
    """The page asked for, or the first page when it is not a positive number."""
    if value is None:
        return 1
    try:
        number = int(value)
    except ValueError:
        return 1
    return max(number, 1)


class CachedPageMixin(PageView):
    """Serve the page to visitors without a session as HTML cached in Redis.

    Without a session the page is a function of its canonical URL and the
    catalog, so it is rendered once per catalog version; only the CSRF token
    is the visitor's own. docs/catalog-cache.md ("Cached pages") says why
    this is safe and what is left out of the key.
    """

    # The query parameters the page reads; any other changes nothing on it.
    cached_query_params: tuple[str, ...] = ()
    # Those it reads every value of (kept sorted in the key).
    cached_list_params: tuple[str, ...] = ()
    # Cleared by a view whose page is not the answer of its canonical URL.
    cache_this_page = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self._cacheable(request):
            return super().get(request, *args, **kwargs)
        self.request = self._canonical_request(request)
        content_type, body = queries.cached_page(
            self.request.build_absolute_uri(), lambda: self._render(*args, **kwargs)
        )
        response = HttpResponse(
            queries.with_csrf_token(body, request), content_type=content_type
        )
        # As the rendered page says it: a session would change the page.
        patch_vary_headers(response, ["Cookie"])
        return response

    def _cacheable(self, request: HttpRequest) -> bool:
        cookies = request.COOKIES
        return (
            settings.SESSION_COOKIE_NAME not in cookies
            and CookieStorage.cookie_name not in cookies
        )

    def _canonical_request(self, request: HttpRequest) -> HttpRequest:
        """The request as it would be at its canonical URL (see the class)."""
        params: list[tuple[str, str]] = []
        for name in sorted(self.cached_query_params):
            value = request.GET.get(name, "").strip()
            if name == "page":
                number = page_number(value)
                value = str(number) if number > 1 else ""
            if value:
                params.append((name, value))
        for name in sorted(self.cached_list_params):
            values = {value.strip() for value in request.GET.getlist(name)}
            params.extend((name, value) for value in sorted(values) if value)
        query = urlencode(params)
        canonical = copy.copy(request)
        canonical.GET = QueryDict(query)
        canonical.META = {**request.META, "QUERY_STRING": query}
        return canonical

    def _render(self, *args: Any, **kwargs: Any) -> tuple[str, bytes, bool]:
        self.csrf_token_placeholder = True
        response = super().get(self.request, *args, **kwargs)
        # The page of a template: its view's response_class.
        assert isinstance(response, SimpleTemplateResponse)
        response.render()
        return response["Content-Type"], response.content, self.cache_this_page

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if getattr(self, "csrf_token_placeholder", False):
            # The view's context comes before the context processors' csrf_token.
            context["csrf_token"] = queries.csrf_placeholder().decode()
        return context


class HomeView(CachedPageMixin, TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["categories"] = storefront.category_tree().roots
        context["newest_products"] = storefront.newest_products()
        return context


class ProductListView(CachedPageMixin, TemplateView):
    """Every active product, filtered, sorted and paginated by the query."""

    template_name = "catalog/product_list.html"
    cached_query_params: tuple[str, ...] = (*FILTER_PARAMS, "page")
    cached_list_params = (OPTION_PARAM,)

    def get_category(self, tree: CategoryTree) -> CategoryNode | None:
        """The category that the path names: none here, see CategoryView."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tree = storefront.category_tree()
        category = self.get_category(tree)
        params = {name: self.request.GET.get(name, "") for name in FILTER_PARAMS}
        if category is not None:
            params["category"] = category.slug
        number = page_number(self.request.GET.get("page"))
        page = storefront.product_page(
            params, number, options=self.request.GET.getlist(OPTION_PARAM)
        )
        self.cache_this_page = not page.errors and page.number == number

        # The applied parameters, kept by the sort form, the pagination and
        # every filter link; the category page's own slug is in its path.
        query: dict[str, str | list[str]] = dict(page.params)
        if category is None and "category" in page.params:
            category = tree.by_slug.get(page.params["category"])
        else:
            query.pop("category", None)
        if page.options:
            query[OPTION_PARAM] = page.options
        paginator = Paginator(range(page.count), storefront.PAGE_SIZE)
        context.update(
            category=category,
            categories=tree.roots,
            products=page.products,
            count=page.count,
            page_obj=paginator.page(page.number),
            page_range=paginator.get_elided_page_range(
                page.number, on_each_side=1, on_ends=1
            ),
            query=query,
            search=page.params.get("search", ""),
            search_terms=page.search,
            sort_options=SEARCH_SORT_OPTIONS if page.search else SORT_OPTIONS,
            notices=[IGNORED_PARAMETER.get(name, name) for name in page.errors],
            facets=page.facets,
            category_counts={
                facet["slug"]: facet["count"] for facet in page.facets["categories"]
            },
            price_ranges=[
                price_range_link(facet) for facet in page.facets["price_ranges"]
            ],
            option_facets=option_facets(page.facets["options"], page.options),
        )
        return context


class CategoryView(ProductListView):
    """The products of one category and its subcategories."""

    # The category is the path's; a `category` parameter is not read.
    cached_query_params = tuple(
        name for name in ProductListView.cached_query_params if name != "category"
    )

    def get_category(self, tree: CategoryTree) -> CategoryNode:
        try:
            return tree.by_slug[self.kwargs["slug"]]
        except KeyError:
            raise Http404("No such category.") from None


class ProductDetailView(CachedPageMixin, DetailView):
    """An active product; inactive and unknown ones are 404."""

    template_name = storefront.PRODUCT_DETAIL_TEMPLATE
    # The options chosen in the page's form ("Size:M").
    cached_list_params = ("option",)

    def get_object(self, queryset: QuerySet[Product] | None = None) -> Product:
        try:
            return storefront.active_product(self.kwargs["slug"])
        except Product.DoesNotExist:
            raise Http404("No such product.") from None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        chosen = self.request.GET.getlist("option")
        context.update(storefront.product_detail_context(self.object, chosen=chosen))
        offered = {
            f"{choice.name}:{value}"
            for choice in context["option_choices"]
            for value in choice.values
        }
        if not {pair.strip() for pair in chosen if pair.strip()} <= offered:
            # Options the product does not have: shown, never stored, so
            # that made-up values cannot fill the cache.
            self.cache_this_page = False
        return context
