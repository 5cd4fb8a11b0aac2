"""The catalog's fast paths: the product answer written out, answers kept as bytes.

The API's public reads and the anonymous visitors' pages are kept in Redis
as the bytes they answer with (catalog/cache.py says why they cannot go
stale); catalog/tests/test_queries.py proves each answer equal to its
serializer's, field by field.
"""

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TypedDict

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.crypto import salted_hmac
from rest_framework.renderers import JSONRenderer

from catalog import cache, images, services
from catalog.models import Product, ProductVariant, from_price_variant
from core.api import iso_datetime, money


class ProductCategoryRepresentation(TypedDict):
    id: int
    name: str
    slug: str


class ProductImageRepresentation(TypedDict):
    url: str
    alt: str
    thumbnail: str
    medium: str


class VariantRepresentation(TypedDict):
    id: int
    sku: str
    options: dict[str, str]
    price: str
    compare_at_price: str | None
    stock: int
    in_stock: bool
    is_active: bool


class OptionTypeRepresentation(TypedDict):
    name: str
    values: list[str]


class ProductRepresentation(TypedDict):
    id: int
    sku: str
    name: str
    slug: str
    description: str
    price: str
    currency: str
    stock: int
    in_stock: bool
    category: ProductCategoryRepresentation
    image: str | None
    images: list[ProductImageRepresentation]
    is_active: bool
    created_at: str
    updated_at: str
    compare_at_price: str | None
    variants: list[VariantRepresentation]
    option_types: list[OptionTypeRepresentation]


def variant_representation(variant: ProductVariant) -> VariantRepresentation:
    """A variant as VariantSerializer shows it."""
    compare_at = variant.was_price
    return {
        "id": variant.pk,
        "sku": variant.sku,
        "options": variant.options,
        "price": money(variant.current_price),
        "compare_at_price": None if compare_at is None else money(compare_at),
        "stock": variant.stock,
        "in_stock": variant.stock > 0,
        "is_active": variant.is_active,
    }


def product_representation(
    product: Product, *, request: HttpRequest | None = None, staff: bool = False
) -> ProductRepresentation:
    """A product as ProductSerializer shows it.

    Its category loaded with it, its images, variants and option types
    prefetched (`Product.objects.with_images().with_variants()`); `staff` see
    the inactive variants too.
    """

    def absolute(url: str) -> str:
        return url if request is None else request.build_absolute_uri(url)

    pictures: list[ProductImageRepresentation] = [
        {
            "url": absolute(image.image.url),
            "alt": image.alt_text,
            "thumbnail": absolute(images.rendition_url(image, "thumbnail")),
            "medium": absolute(images.rendition_url(image, "medium")),
        }
        for image in product.images.all()
    ]
    category = product.category
    variants = list(product.variants.all())
    from_variant = from_price_variant(variants)
    compare_at = None if from_variant is None else from_variant.was_price
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "price": money(product.price),
        "currency": settings.STORE_CURRENCY,
        "stock": product.stock,
        "in_stock": product.stock > 0,
        "category": {"id": category.pk, "name": category.name, "slug": category.slug},
        "image": pictures[0]["url"] if pictures else None,
        "images": pictures,
        "is_active": product.is_active,
        "created_at": iso_datetime(product.created_at),
        "updated_at": iso_datetime(product.updated_at),
        "compare_at_price": None if compare_at is None else money(compare_at),
        "variants": [
            variant_representation(variant)
            for variant in variants
            if staff or variant.is_active
        ],
        "option_types": [
            {"name": option.name, "values": list(option.values)}
            for option in product.option_types.all()
        ],
    }


def entity_tag(body: bytes) -> str:
    """A strong ETag of a response body: it changes whenever a byte does."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def public_json(
    found: cache.Read[tuple[str, bytes]],
    answer: Callable[[], object],
    *,
    valid_until: Callable[[], datetime | None] | None = None,
) -> tuple[str, bytes]:
    """Return the (ETag, JSON body) that `found` holds, else build and store it.

    `found` is the cache.Read of the answer's entry; `answer()` gives the
    data to render when it holds none (its exceptions pass through, and
    nothing is stored). `valid_until`: as cache.fill's, for answers that
    show prices.
    """

    def build() -> tuple[str, bytes]:
        body = JSONRenderer().render(answer())
        return entity_tag(body), body

    return cache.fill(found, build, valid_until=valid_until)


def cached_page(
    url: str, render: Callable[[], tuple[str, bytes, bool]]
) -> tuple[str, bytes]:
    """Return the catalog page at `url` as (content type, body), rendered once.

    Once per catalog version: `render()` gives (content type, body, whether
    the page is the answer of `url` itself), and only such a page is stored.
    The body holds `csrf_placeholder()` where the visitor's token goes
    (`with_csrf_token`).
    """
    found: cache.Read[tuple[str, bytes]] = cache.read("pages:html", (url,))
    if found.value is not None:
        return found.value
    until = services.ensure_sale_prices()
    content_type, body, storable = render()
    if storable:
        cache.store(found, (content_type, body), until=until)
    return content_type, body


@functools.cache
def csrf_placeholder() -> bytes:
    """What stands for the CSRF token in a cached page: nothing a page could show."""
    return (
        salted_hmac("catalog.page-cache", "csrf-token", algorithm="sha256")
        .hexdigest()
        .encode()
    )


def with_csrf_token(body: bytes, request: HttpRequest) -> bytes:
    """The cached page's body with the visitor's own CSRF token in its forms."""
    placeholder = csrf_placeholder()
    if placeholder not in body:
        return body
    # As Django's {% csrf_token %} does, this sets the token's cookie.
    return body.replace(placeholder, get_token(request).encode())
