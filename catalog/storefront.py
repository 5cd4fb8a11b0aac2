"""The catalog pages' reads, cached in Redis like the API's.

Each read goes through `catalog.cache`: it is served under the current
catalog version, so a change to a product, a category or a stock
figure is visible in the very next read, and it is built from the database
when Redis is unreachable. The products are filtered by the API's own
`ProductFilter`; the pages differ only in what they do with a bad value:
they leave that parameter out and say why, where the API answers 400.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.urls import reverse

from catalog import cache, services
from catalog.facets import ProductFacets, facets_of
from catalog.filters import ProductFilter
from catalog.models import Category, Product, ProductVariant, from_price_variant
from catalog.search import SearchTerms

PRODUCT_DETAIL_TEMPLATE = "catalog/product_detail.html"
PAGE_SIZE = 12
NEWEST_COUNT = 8
# The product list's parameters that shoppers may set (the API's names);
# `is_active` is for staff, and any other parameter is ignored.
FILTER_PARAMS = (
    "category",
    "search",
    "ordering",
    "in_stock",
    "on_sale",
    "min_price",
    "max_price",
)
# The one given once for each value: `option=Size:M&option=Colour:Red`.
OPTION_PARAM = "option"


@dataclass
class CategoryNode:
    """A category in the navigation, with its active products counted."""

    name: str
    slug: str
    description: str
    product_count: int
    parent: "CategoryNode | None" = field(default=None, repr=False, compare=False)
    children: list["CategoryNode"] = field(default_factory=list)

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", args=[self.slug])

    @property
    def ancestors(self) -> list["CategoryNode"]:
        """The categories above this one, the top-level one first."""
        chain: list[CategoryNode] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


@dataclass
class CategoryTree:
    roots: list[CategoryNode]
    by_slug: dict[str, CategoryNode]


@dataclass
class ProductPage:
    """One page of a filtered product list."""

    products: list[Product]
    count: int
    number: int
    # The parameters that were applied, and those left out with the reasons;
    # the `option` values apart (as canonical_options gives them).
    params: dict[str, str]
    options: list[str]
    errors: dict[str, list[str]]
    # The search that was run (None: none), and the filters' counts.
    search: SearchTerms | None
    facets: ProductFacets


def category_tree() -> CategoryTree:
    """Return every category as a tree, ordered as the admin orders them."""
    return cache.cached("pages:categories", (), _build_category_tree)


def _build_category_tree() -> CategoryTree:
    counts = Category.objects.active_product_counts()
    rows = list(
        Category.objects.values_list("pk", "parent_id", "name", "slug", "description")
    )
    nodes = {
        pk: CategoryNode(name, slug, description, counts.get(pk, 0))
        for pk, _, name, slug, description in rows
    }
    roots: list[CategoryNode] = []
    for pk, parent_id, *_ in rows:
        node = nodes[pk]
        if parent_id is None:
            roots.append(node)
        else:
            node.parent = nodes[parent_id]
            node.parent.children.append(node)
    return CategoryTree(roots, {node.slug: node for node in nodes.values()})


def newest_products() -> list[Product]:
    """Return the newest active products, for the home page."""
    return cache.cached(
        "pages:newest",
        (),
        lambda: list(
            Product.objects.active()
            .with_category()
            .with_images()
            .with_price_is_from()[:NEWEST_COUNT]
        ),
        valid_until=services.ensure_sale_prices,
    )


def active_product(slug: str) -> Product:
    """Return the active product with this slug, or raise Product.DoesNotExist."""
    # Raising inside the build leaves a missing product uncached.
    return cache.cached(
        "pages:product",
        (slug,),
        lambda: (
            Product.objects.active()
            .with_category()
            .with_images()
            .with_variants()
            .get(slug=slug)
        ),
        valid_until=services.ensure_sale_prices,
    )


@dataclass(frozen=True)
class OptionChoice:
    """One option type on the product page: its values and the one chosen."""

    name: str
    values: list[str]
    chosen: str | None


def product_detail_context(
    product: Product, *, chosen: Sequence[str] = (), variant_id: int | None = None
) -> dict[str, object]:
    """The product page's context, for every view that shows the page.

    The product (its category loaded with it), its category's place in the
    navigation, its option types with the values `chosen` ("Size:M" pairs,
    as the page's GET form sends them) and the variant they name, or
    `variant_id`'s; by default the variant giving the product its price. No
    active variant has the options chosen: `variant` is None and
    `unavailable` True. The carts app adds its refused `add_form`.
    """
    variants = [variant for variant in product.variants.all() if variant.is_active]
    option_types = list(product.option_types.all())
    wanted = {}
    for pair in chosen:
        name, _, value = pair.partition(":")
        wanted[name.strip()] = value.strip()
    variant: ProductVariant | None
    if variant_id is not None:
        variant = next((v for v in variants if v.pk == variant_id), None)
    elif wanted:
        variant = next(
            (
                v
                for v in variants
                if all(
                    v.options.get(option.name) == wanted.get(option.name)
                    for option in option_types
                )
            ),
            None,
        )
    else:
        variant = from_price_variant(variants)
    shown = variant.options if variant is not None else wanted
    return {
        "product": product,
        "category": category_tree().by_slug.get(product.category.slug),
        "variant": variant,
        "unavailable": variant is None and bool(wanted or variant_id),
        "option_choices": [
            OptionChoice(option.name, list(option.values), shown.get(option.name))
            for option in option_types
        ],
    }


def canonical_options(pairs: Iterable[str]) -> list[str]:
    """The `option` values as the page's cache key holds them: stripped, each
    once, sorted, empty ones left out (the filter reads them in any order)."""
    return sorted({pair.strip() for pair in pairs} - {""})


def product_page(
    params: dict[str, str], number: int, *, options: Iterable[str] = ()
) -> ProductPage:
    """Return page `number` of the active products that match `params`.

    `params` maps the names in FILTER_PARAMS to the query's strings (others
    and empty ones are dropped), `options` are the `option` values
    (`name:value`); a parameter with a bad value (the options are one) is
    left out and reported in `errors`. A page past the end is the last page.
    """
    params = {
        name: value.strip()
        for name, value in params.items()
        if name in FILTER_PARAMS and value.strip()
    }
    chosen = canonical_options(options)
    found: cache.Read[ProductPage] = cache.read(
        "pages:products", (sorted(params.items()), chosen, number)
    )
    if found.value is not None:
        return found.value
    until = services.ensure_sale_prices()
    page = _build_product_page(params, chosen, number)
    # A bad value left out, or a page past the end shown as the last, is not
    # an answer of its own: stored, made-up values would fill Redis.
    if not page.errors and page.number == number:
        cache.store(found, page, until=until)
    return page


def _build_product_page(
    params: dict[str, str], options: list[str], number: int
) -> ProductPage:
    data: dict[str, str | list[str]] = {**params, OPTION_PARAM: options}
    filterset = ProductFilter(
        data,
        queryset=Product.objects.active()
        .with_category()
        .with_images()
        .with_price_is_from(),
    )
    # An invalid field is missing from the form's cleaned data, so the
    # FilterSet's queryset applies the valid ones only.
    errors = {name: list(messages) for name, messages in filterset.errors.items()}
    paginator = Paginator(filterset.results(), PAGE_SIZE)
    page = paginator.get_page(number)
    return ProductPage(
        products=list(page.object_list),
        count=paginator.count,
        number=page.number,
        params={name: value for name, value in params.items() if name not in errors},
        options=[] if OPTION_PARAM in errors else options,
        errors=errors,
        search=filterset.search_terms(),
        facets=facets_of(filterset),
    )
