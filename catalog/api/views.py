from django.http import HttpResponse
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


class PublicCacheMixin:
    """Serve the public's reads as JSON bytes cached in Redis.

    Staff see inactive products and their writes must show at once, so they
    always read the database. The key holds the host (image and page links
    are absolute URLs) and every query parameter; the catalog version inside
    it keeps entries from outliving a change (see catalog/cache.py).
    """

    def cached_read(self, request, name, read, lookup=None):
        if is_staff(request.user):
            return read()
        # Hashed into the key, so that a client cannot choose key names.
        params = (
            lookup,
            request.build_absolute_uri("/"),
            sorted(request.query_params.lists()),
        )
        body = cache.cached(name, params, lambda: JSONRenderer().render(read().data))
        return HttpResponse(body, content_type="application/json")


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

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in {"list", "retrieve"}:
            # One query for every category's count, whatever the page size.
            context["product_counts"] = Category.objects.active_product_counts()
        return context

    def list(self, request, *args, **kwargs):
        return self.cached_read(
            request, "categories", lambda: super(CategoryViewSet, self).list(request)
        )

    def retrieve(self, request, *args, **kwargs):
        return self.cached_read(
            request,
            "category",
            lambda: super(CategoryViewSet, self).retrieve(request, *args, **kwargs),
            lookup=kwargs["slug"],
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

    def list(self, request, *args, **kwargs):
        return self.cached_read(
            request, "products", lambda: super(ProductViewSet, self).list(request)
        )

    def retrieve(self, request, *args, **kwargs):
        return self.cached_read(
            request,
            "product",
            lambda: super(ProductViewSet, self).retrieve(request, *args, **kwargs),
            lookup=kwargs["slug"],
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
