import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.permissions import IsStaffOrReadOnly, is_staff
from catalog import cache, services
from catalog.api.serializers import (
    CategorySerializer,
    ProductSerializer,
    ProductWriteSerializer,
)
from catalog.filters import ProductFilter
from catalog.models import Category, Product
from shopswift.parsers import JSONParser

# Accept headers that the API's one renderer (JSON) satisfies as they are.
JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})


def entity_tag(body):
    """A strong ETag of a response body: it changes whenever a byte does."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def public_response(request, tagged):
    """The JSON response for a cached (etag, body), or 304 when the client has it.

    Vary: Cookie, as the DRF path says it (a staff session reads the
    database), whichever path served it.
    """
    etag, body = tagged
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response = get_conditional_response(request, etag=etag, response=response)
    patch_vary_headers(response, ["Cookie"])
    return response


class PublicCacheMixin:
    """Serve the public's reads as JSON bytes cached in Redis, with an ETag.

    Staff see inactive products and their writes must show at once, so they
    always read the database. The key holds the host (image and page links
    are absolute URLs) and every query parameter; the catalog version stored
    with each entry keeps it from outliving a change (see catalog/cache.py). Each
    entry is (ETag, body): a client that sends the ETag back in
    If-None-Match gets 304 Not Modified while the body is unchanged, and the
    new body (with its new tag) as soon as it is not.

    A request that carries no credentials at all (no Authorization header,
    no session cookie), asks for JSON and finds its entry is answered before
    DRF's dispatch: it could only be anonymous, which these views let read
    without throttling, so authentication, permissions and content
    negotiation would not change the answer, and skipping them roughly
    halves its cost. When it finds none, DRF's path builds the entry from
    that same read (one Redis round trip for the read, one to store). Every
    other request goes through DRF as before.
    """

    # The read actions served from the cache, and the name of their entries.
    public_cache = {}
    # The cache read of a request without credentials that found no entry.
    public_read = None

    def dispatch(self, request, *args, **kwargs):
        name = self.public_cache.get(self.action_map.get(request.method.lower()))
        if name and request.method == "GET" and self._without_credentials(request):
            found = cache.read(name, self._public_params(request, kwargs))
            if found.value is None:
                # DRF's path builds it, without reading the cache again.
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
    def _without_credentials(request):
        return (
            "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            # DRF's own test clients authenticate this way (force_authenticate).
            and not hasattr(request, "_force_auth_user")
            and request.META.get("HTTP_ACCEPT", "") in JSON_ACCEPTS
        )

    def _public_params(self, request, kwargs):
        # Hashed into the key, so that a client cannot choose key names.
        return (
            kwargs.get(self.lookup_field),
            request.build_absolute_uri("/"),
            sorted(request.GET.lists()),
        )

    def cached_read(self, request, read):
        if is_staff(request.user):
            return read()
        found = self.public_read or cache.read(
            self.public_cache[self.action], self._public_params(request, self.kwargs)
        )

        def build():
            body = JSONRenderer().render(read().data)
            return entity_tag(body), body

        return public_response(request, cache.fill(found, build))


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

    def get_serializer_context(self):
        context = super().get_serializer_context()
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

    Writes name the category by slug and may upload `image` as
    multipart/form-data. A changed `stock` is recorded as a stock adjustment.
    """

    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrReadOnly]
    filterset_class = ProductFilter
    lookup_field = "slug"
    public_cache = {"list": "api:products", "retrieve": "api:product"}
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        products = Product.objects.with_category()
        if not is_staff(self.request.user):
            products = products.active()
        return products

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return ProductWriteSerializer
        return ProductSerializer

    def filter_queryset(self, queryset):
        # The query parameters filter the list; one product by its slug is
        # found without validating a FilterSet (a fifth of its read).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        return self.cached_read(
            request, lambda: super(ProductViewSet, self).list(request)
        )

    def retrieve(self, request, *args, **kwargs):
        return self.cached_read(
            request,
            lambda: super(ProductViewSet, self).retrieve(request, *args, **kwargs),
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_product(
            user=request.user, **serializer.validated_data
        )
        return Response(self._read(product), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(
            product, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        product = services.update_product(
            product=product, user=request.user, **serializer.validated_data
        )
        return Response(self._read(product))

    def _read(self, product):
        return ProductSerializer(product, context=self.get_serializer_context()).data
