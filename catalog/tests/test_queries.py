"""The catalog's fast answers are its serializers' answers, field by field.

Each public read is checked twice: as DRF's path builds and stores it, and
as the cached bytes answer it before DRF's dispatch.
"""

from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import Client
from rest_framework.test import APIRequestFactory

from catalog import facets, images, queries
from catalog.api.serializers import (
    CategorySerializer,
    ProductFacetsSerializer,
    ProductSerializer,
)
from catalog.models import Category, Product, ProductImage
from catalog.tests.factories import CategoryFactory, ProductFactory, image_file
from core.testing import assert_answer_matches, schema_components

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug(media_root):
    kitchen = CategoryFactory(name="Kitchen", description="Pots and pans.")
    mug = ProductFactory(
        name="Blue Mug",
        description="Holds tea.",
        price=Decimal("12.50"),
        stock=0,
        category=CategoryFactory(name="Mugs", parent=kitchen),
    )
    # Its main picture with renditions, and one from before them (migration
    # 0010): the API shows the original in place of its renditions.
    images.add_image(
        product=mug, image=image_file("mug.png", size=(900, 600)), alt_text="A mug"
    )
    ProductImage.objects.create(product=mug, image="products/old.png", position=5)
    return Product.objects.with_category().with_images().get(pk=mug.pk)


def serialized(product):
    request = APIRequestFactory().get("/")
    return ProductSerializer(product, context={"request": request}).data


def twice(path):
    """The answer as DRF's path builds it, then as the cache serves it."""
    first, cached = Client().get(path), Client().get(path)
    assert first.content == cached.content
    return first.json()


def test_the_product_answer_is_product_serializers(mug):
    request = APIRequestFactory().get("/")

    answer = queries.product_representation(mug, request=request)

    assert_answer_matches(answer, serialized(mug), "Product")
    main = mug.images.all()[0]
    assert (answer["image"], answer["in_stock"]) == (
        f"http://testserver/media/{main.image.name}",
        False,
    )
    assert answer["images"][1] == {
        "url": "http://testserver/media/products/old.png",
        "alt": "",
        "thumbnail": "http://testserver/media/products/old.png",
        "medium": "http://testserver/media/products/old.png",
    }
    assert answer["images"][0]["thumbnail"].endswith(".webp")


def test_an_inactive_product_without_an_image_answers_as_product_serializer():
    product = ProductFactory(is_active=False)
    product = Product.objects.with_category().with_images().get(pk=product.pk)

    answer = queries.product_representation(product)

    assert_answer_matches(answer, ProductSerializer(product).data, "Product")
    assert (answer["image"], answer["images"], answer["is_active"]) == (
        None,
        [],
        False,
    )


def test_the_product_detail_is_product_serializers(mug):
    answer = twice(f"/api/v1/products/{mug.slug}/")

    assert_answer_matches(answer, serialized(mug), "Product")


def test_each_product_list_item_is_product_serializers(mug):
    other = ProductFactory(name="Teapot")
    other = Product.objects.with_category().with_images().get(pk=other.pk)

    results = twice("/api/v1/products/?ordering=name")["results"]

    assert len(results) == 2
    assert_answer_matches(results[0], serialized(mug), "Product")
    assert_answer_matches(results[1], serialized(other), "Product")


def category_serialized(category):
    context = {"product_counts": Category.objects.active_product_counts()}
    return CategorySerializer(category, context=context).data


def test_the_category_detail_is_category_serializers(mug):
    mugs = Category.objects.with_parent().get(name="Mugs")

    answer = twice(f"/api/v1/categories/{mugs.slug}/")

    assert_answer_matches(answer, category_serialized(mugs), "Category")
    assert (answer["parent"], answer["product_count"]) == ("kitchen", 1)


def test_each_category_list_item_is_category_serializers(mug):
    categories = list(Category.objects.with_parent())

    results = twice("/api/v1/categories/")["results"]

    assert [item["name"] for item in results] == ["Kitchen", "Mugs"]
    for item, category in zip(results, categories, strict=True):
        assert_answer_matches(item, category_serialized(category), "Category")


def test_a_searched_list_is_product_serializers_with_the_documented_search(mug):
    ProductFactory(name="Teapot", description="Not a mug.")

    body = twice("/api/v1/products/?search=mugg")

    assert body["search"] == {"query": "mugg", "corrected": "mug"}
    documented = schema_components()["PaginatedProductList"]["properties"]
    assert sorted(body) == sorted(documented)
    assert sorted(body["search"]) == sorted(documented["search"]["properties"])
    # The name's match first; the search's rank is no field of the answer.
    assert [item["name"] for item in body["results"]] == ["Blue Mug", "Teapot"]
    assert_answer_matches(body["results"][0], serialized(mug), "Product")


@pytest.mark.parametrize("query", ["", "?search=mug&in_stock=false&min_price=10"])
def test_the_facets_are_product_facets_serializers(mug, query):
    params = dict(QueryDict(query.lstrip("?")).items())

    answer = twice(f"/api/v1/products/facets/{query}")

    expected = ProductFacetsSerializer(facets.product_facets(params)).data
    assert_answer_matches(answer, expected, "ProductFacets")
    assert answer["count"] == 1
