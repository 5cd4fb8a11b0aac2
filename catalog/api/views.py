from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_vary_headers
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

from accounts.permissions import HasAdminPermissions, IsStaffOrReadOnly, is_staff
from catalog import cache, facets, queries, services
from catalog.api.serializers import (
    CategorySerializer,
    ProductFacetsSerializer,
    ProductSerializer,
    ProductWriteSerializer,
    SaleSerializer,
    VariantSerializer,
    VariantWriteSerializer,
)
from catalog.filters import ProductFacetFilter, ProductFilter
from catalog.models import Category, Product, ProductVariant, Sale
from core.api import PageNumberPagination
from core.parsers import JSONParser

# Accept headers that the API's one renderer (JSON) satisfies as they are.
JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})

if TYPE_CHECKING:
    # What the mixin's methods extend: a model viewset's.
    PublicReadViewSet = viewsets.GenericViewSet
else:
    PublicReadViewSet = object

# The query parameters an answer depends on: sorted (name, [values]) pairs.
type PublicQuery = list[tuple[str, list[str]]]


def public_response(request: HttpRequest, tagged: tuple[str, bytes]) -> HttpResponse:
    """The JSON response for a cached (etag, body), or 304 when the client has it.

    Vary: Cookie, as the DRF path says it (a staff session reads the
    database), whichever path served it.
    """
    etag, body = tagged
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response = get_conditional_response(request, etag=etag, response=response)  # type: ignore[assignment]  # given a response, never None
    patch_vary_headers(response, ["Cookie"])
    return response


class PublicQueryPagination(PageNumberPagination):
    """Page links that carry the list's own query parameters only, in one order.

    A public list is cached under those parameters (PublicCacheMixin), and
    its links are part of the cached body: a link that echoed any other
    parameter (a tracking tag, a made-up name) would hand one client's query
    string to the next, and two queries that share an entry must get the
    same bytes (so `page_size=500` links as `page_size=100`).
    """

    def paginate_queryset(self, queryset, request, view=None):
        query = [
            (name, values)
            for name, values in view.public_query(request, "list")
            if name != self.page_query_param
        ]
        self.base_url = (
            urlsplit(request.build_absolute_uri())
            ._replace(query=urlencode(query, doseq=True))
            .geturl()
        )
        return super().paginate_queryset(queryset, request, view)

    # DRF's links, from base_url rather than the request's own URL.
    def get_next_link(self) -> str | None:
        # Asked for once paginate_queryset() has set the page.
        assert self.page is not None
        if not self.page.has_next():
            return None
        return replace_query_param(
            self.base_url, self.page_query_param, self.page.next_page_number()
        )

    def get_previous_link(self) -> str | None:
        assert self.page is not None  # as in get_next_link()
        if not self.page.has_previous():
            return None
        number = self.page.previous_page_number()
        if number == 1:
            return remove_query_param(self.base_url, self.page_query_param)
        return replace_query_param(self.base_url, self.page_query_param, number)


class ProductListPagination(PublicQueryPagination):
    """The product list's pages, which say what a search searched for."""

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["search"] = {
            "type": "object",
            "description": "Present whenever `search` was given.",
            "properties": {
                "query": {"type": "string", "description": "The search as given."},
                "corrected": {
                    "type": "string",
                    "nullable": True,
                    "description": "The words searched for instead, when the "
                    "search as given found nothing; null when it found products "
                    "or nothing close enough was found.",
                },
            },
            "required": ["query", "corrected"],
        }
        return response


class PublicCacheMixin(PublicReadViewSet):
    """Serve the public's reads as JSON bytes cached in Redis, with an ETag.

    Staff always read the database. A request with no credentials that finds
    its entry is answered before DRF's dispatch; docs/catalog-cache.md
    ("Cached API answers") says why that is safe and what the key holds.
    """

    pagination_class = PublicQueryPagination
    # The read actions served from the cache, and the name of their entries.
    public_cache: ClassVar[dict[str, str]] = {}
    # The FilterSet of each cached action that takes filters.
    public_filtersets: ClassVar[dict[str, type[ProductFilter]]] = {}
    # The cache read of a request without credentials that found no entry.
    public_read: cache.Read[tuple[str, bytes]] | None = None
    # Whether the answers show prices, which sales change by themselves.
    shows_prices: ClassVar[bool] = False

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        action = self.action_map.get("get")
        if (
            request.method == "GET"
            and action in self.public_cache
            and self.without_credentials(request)
        ):
            params = self._public_params(request, action, kwargs)
            found: cache.Read[tuple[str, bytes]] | None = (
                None
                if params is None
                else cache.read(self.public_cache[action], params)
            )
            if found is None or found.value is None:
                # DRF's path builds it (or answers the 400), without reading
                # the cache again.
                self.public_read = found
                return super().dispatch(request, *args, **kwargs)
            response = public_response(request, found.value)
            # The headers DRF's dispatch would add (Allow).
            self.headers = self.default_response_headers
            for header, value in self.headers.items():
                response[header] = value
            return response
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def without_credentials(request: HttpRequest) -> bool:
        """Whether the request carries no credentials at all and asks for JSON.

        Credentials are an Authorization header or a session cookie (the
        tests send real ones too: DRF's force_authenticate is not seen here).
        """
        return (
            "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and request.META.get("HTTP_ACCEPT", "") in JSON_ACCEPTS
        )

    def public_query(self, request: HttpRequest | Request, action: str) -> PublicQuery:
        """The query parameters that the answer of `action` depends on, canonical.

        Sorted (name, [values]) pairs: DRF's `format` on every read, the
        action's FilterSet's declared filters with their values as given
        (a malformed one is a 400, which is never stored), and on a list
        the page number and the page size as the paginator reads them. Two
        queries with the same pairs get the same answer. Raises
        ValidationError for a page or page size that is not a positive whole
        number.
        """
        if not request.GET:
            # The most common read: nothing to parse, the first page.
            if action == "list":
                return [(self.pagination_class.page_query_param, ["1"])]
            return []
        if not isinstance(request, Request):
            request = Request(request)
        names = {api_settings.URL_FORMAT_OVERRIDE}
        filterset_class = self.public_filtersets.get(action)
        if filterset_class is not None:
            names.update(filterset_class.base_filters)
        query = request.query_params
        params = [(name, query.getlist(name)) for name in names if name in query]
        if action == "list":
            paginator = self.paginator
            assert isinstance(paginator, PublicQueryPagination)
            if paginator.page_size_query_param in query:
                size = paginator.get_page_size(request)
                params.append((paginator.page_size_query_param, [str(size)]))
            # Without a "last" page, the number needs no Django paginator.
            number = paginator.get_page_number(request, None)
            params.append((paginator.page_query_param, [str(number)]))
        return sorted(params)

    def _public_params(
        self, request: HttpRequest | Request, action: str, kwargs: dict[str, Any]
    ) -> tuple[object, str, PublicQuery] | None:
        """The cache key's inputs, or None for a malformed page or page size."""
        try:
            query = self.public_query(request, action)
        except ValidationError:
            return None
        # Hashed into the key, so that a client cannot choose key names.
        return (kwargs.get(self.lookup_field), request.build_absolute_uri("/"), query)

    def cached_read(
        self, request: Request, read: Callable[[], Response]
    ) -> HttpResponse:
        ensure_prices = services.ensure_sale_prices if self.shows_prices else None
        if is_staff(request.user):
            if ensure_prices is not None:
                ensure_prices()
            return read()
        found = self.public_read
        if found is None:
            params = self._public_params(request, self.action, self.kwargs)
            if params is None:
                return read()  # a malformed page or page size: DRF's 400
            found = cache.read(self.public_cache[self.action], params)

        answer = queries.public_json(
            found, lambda: read().data, valid_until=ensure_prices
        )
        return public_response(request, answer)


@extend_schema_view(
    destroy=extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(
                description="The category still has products or subcategories "
                "(`conflict`)."
            ),
        }
    )
)
class CategoryViewSet(PublicCacheMixin, viewsets.ModelViewSet):
    """Categories. Anyone reads; staff write."""

    queryset = Category.objects.with_parent()
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "slug"
    public_cache = {"list": "api:categories", "retrieve": "api:category"}

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if self.action in {"list", "retrieve"}:
            # One query for every category's count, whatever the page size.
            context["product_counts"] = Category.objects.active_product_counts()
        return context

    def list(self, request, *args, **kwargs):
        return self.cached_read(
            request, lambda: super(CategoryViewSet, self).list(request)
        )

    def retrieve(self, request, *args, **kwargs):
        return self.cached_read(
            request,
            lambda: super(CategoryViewSet, self).retrieve(request, *args, **kwargs),
        )


@extend_schema_view(
    create=extend_schema(
        request=ProductWriteSerializer, responses={201: ProductSerializer}
    ),
    update=extend_schema(
        request=ProductWriteSerializer, responses={200: ProductSerializer}
    ),
    partial_update=extend_schema(
        request=ProductWriteSerializer, responses={200: ProductSerializer}
    ),
)
class ProductViewSet(PublicCacheMixin, viewsets.ModelViewSet):
    """Products. Anyone reads active products; staff read all and write.

    Writes name the category by slug and may upload `image`, the first
    picture, as multipart/form-data. A changed `stock` is recorded as a stock
    adjustment.
    """

    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "slug"
    shows_prices = True
    public_cache = {
        "list": "api:products",
        "retrieve": "api:product",
        "facets": "api:facets",
    }
    public_filtersets = {"list": ProductFilter, "facets": ProductFacetFilter}
    pagination_class = ProductListPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @property
    def filterset_class(self) -> type[ProductFilter]:
        # The facets take the list's filters, less its ordering and is_active.
        return self.public_filtersets.get(getattr(self, "action", ""), ProductFilter)

    def get_queryset(self):
        products = Product.objects.with_category().with_images().with_variants()
        if not is_staff(self.request.user):
            products = products.active()
        return products

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return ProductWriteSerializer
        if self.action in {"variants", "variant"}:
            if self.request.method in {"POST", "PATCH"}:
                return VariantWriteSerializer
            return VariantSerializer
        return ProductSerializer

    def filter_queryset(self, queryset):
        # The list and the facets filter through their FilterSets
        # (read_list, catalog.facets); one product by its slug is found
        # without validating a FilterSet (a fifth of its read).
        return queryset

    # Every product answer is catalog.queries' product, which
    # ProductSerializer documents.
    def list(self, request, *args, **kwargs):
        return self.cached_read(request, self.read_list)

    def retrieve(self, request, *args, **kwargs):
        return self.cached_read(
            request, lambda: Response(self._read(self.get_object()))
        )

    def read_list(self):
        filterset = ProductFilter(
            self.request.query_params, queryset=self.get_queryset()
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        page = self.paginate_queryset(filterset.results())
        assert page is not None  # PublicQueryPagination pages every list
        response = self.get_paginated_response(
            [self._read(product) for product in page]
        )
        terms = filterset.search_terms()
        if terms is not None:
            response.data["search"] = {
                "query": terms.query,
                "corrected": terms.corrected,
            }
        return response

    @extend_schema(
        filters=True,
        responses={200: ProductFacetsSerializer},
        description="How many active products each filter choice would list, "
        "for the list's other filters: a facet does not filter itself.",
    )
    @action(detail=False, methods=["get"])
    def facets(self, request):
        return self.cached_read(
            request, lambda: Response(facets.product_facets(request.query_params))
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_product(
            user=request.user, **serializer.validated_data
        )
        return Response(
            self._read(self.get_queryset().get(pk=product.pk)),
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        methods=["GET"],
        summary="A product's variants (active only, but for staff)",
        responses={200: VariantSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a variant (staff)",
        request=VariantWriteSerializer,
        responses={201: VariantSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def variants(self, request, slug=None):
        product = self.get_object()
        if request.method == "POST":
            serializer = VariantWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            variant = services.create_variant(
                product=product, user=request.user, **serializer.validated_data
            )
            return Response(
                queries.variant_representation(variant), status=status.HTTP_201_CREATED
            )
        variants = product.variants.all()
        return Response(
            [
                queries.variant_representation(variant)
                for variant in variants
                if variant.is_active or is_staff(request.user)
            ]
        )

    @extend_schema(
        methods=["PATCH"],
        summary="Change a variant (staff); a new `stock` is an adjustment",
        request=VariantWriteSerializer,
        responses={200: VariantSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete a variant (staff)",
        responses={
            204: None,
            409: OpenApiResponse(
                description="The product's last variant (`conflict`)."
            ),
        },
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"variants/(?P<variant_id>[0-9]+)",
    )
    def variant(self, request, slug=None, variant_id=None):
        product = self.get_object()
        variant = get_object_or_404(
            ProductVariant.objects.filter(product=product), pk=variant_id
        )
        if request.method == "DELETE":
            services.delete_variant(variant=variant)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = VariantWriteSerializer(variant, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        variant = services.update_variant(
            variant=variant, user=request.user, **serializer.validated_data
        )
        return Response(queries.variant_representation(variant))

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(
            product, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        product = services.update_product(
            product=product, user=request.user, **serializer.validated_data
        )
        # Read again: its variants as the change left them.
        return Response(self._read(self.get_queryset().get(pk=product.pk)))

    def _read(self, product):
        return queries.product_representation(
            product, request=self.request, staff=is_staff(self.request.user)
        )


@extend_schema_view(
    list=extend_schema(summary="Sales (staff)"),
    create=extend_schema(
        summary="Schedule a sale (staff)",
        description="Its prices apply from `starts_at` up to, not including, "
        "`ends_at`; where several sales cover a variant the lowest price wins.",
    ),
    retrieve=extend_schema(summary="A sale (staff)"),
    update=extend_schema(summary="Change a sale (staff)"),
    partial_update=extend_schema(summary="Change a sale (staff)"),
    destroy=extend_schema(summary="Delete a sale (staff)"),
)
class SaleViewSet(viewsets.ModelViewSet):
    """/api/v1/sales/: staff schedule sales, as in the admin (catalog.services)."""

    queryset = Sale.objects.prefetch_related("categories", "products", "variants")
    serializer_class = SaleSerializer
    # The admin's sale permissions: editing prices does not make one a
    # runner of sales.
    permission_classes = [HasAdminPermissions]

    def perform_create(self, serializer):
        serializer.instance = save_sale(Sale(), dict(serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = save_sale(
            serializer.instance, dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.delete_sale(sale=instance)


SALE_COVERS = ("products", "variants", "categories")


def save_sale(sale: Sale, data: dict[str, Any]) -> Sale:
    """The sale with the serializer's fields, saved through the service."""
    # What it covers is set by the service (None: unchanged).
    covered = {name: data.pop(name, None) for name in SALE_COVERS}
    for name, value in data.items():
        setattr(sale, name, value)
    return services.save_sale(sale=sale, **covered)
