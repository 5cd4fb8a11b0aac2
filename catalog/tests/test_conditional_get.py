"""Conditional GETs on the public catalog reads, and the cached answer's fast path.

Tests run inside a transaction that never commits, so each write is wrapped
in django_capture_on_commit_callbacks(execute=True): the cache is invalidated
on commit, as in production.
"""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog import services
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, variant_of

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


def product_url(product):
    return f"{PRODUCTS}{product.slug}/"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks at its end, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.parametrize("path", [PRODUCTS, "detail", CATEGORIES])
def test_an_unchanged_read_answers_304_to_its_etag(api_client, path):
    product = ProductFactory()
    path = product_url(product) if path == "detail" else path
    first = api_client.get(path)

    again = api_client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_the_etag_of_an_entry_is_the_same_from_the_database_and_the_cache(
    api_client, django_assert_num_queries
):
    ProductFactory.create_batch(2)
    built = api_client.get(PRODUCTS)

    with django_assert_num_queries(0):
        served = api_client.get(PRODUCTS)

    assert served["ETag"] == built["ETag"]
    assert served.content == built.content


def test_a_changed_price_answers_the_new_body_to_the_old_etag(api_client, committed):
    product = ProductFactory(price=Decimal("5.00"))
    old_detail = api_client.get(product_url(product))
    old_list = api_client.get(PRODUCTS)
    with committed():
        services.update_product(product=product, price=Decimal("6.00"))

    detail = api_client.get(product_url(product), HTTP_IF_NONE_MATCH=old_detail["ETag"])
    listed = api_client.get(PRODUCTS, HTTP_IF_NONE_MATCH=old_list["ETag"])

    assert detail.status_code == 200
    assert detail.json()["price"] == "6.00"
    assert detail["ETag"] != old_detail["ETag"]
    assert listed.status_code == 200
    assert listed.json()["results"][0]["price"] == "6.00"
    assert listed["ETag"] != old_list["ETag"]


def test_a_sale_answers_the_new_stock_to_the_old_etag(api_client, committed):
    product = ProductFactory(stock=3)
    old = api_client.get(product_url(product))
    with committed():
        services.take_stock(lines=[(variant_of(product).pk, 1)])

    response = api_client.get(product_url(product), HTTP_IF_NONE_MATCH=old["ETag"])

    assert response.status_code == 200
    assert response.json()["stock"] == 2


def test_a_deactivated_product_answers_404_to_its_old_etag(api_client, committed):
    product = ProductFactory()
    old = api_client.get(product_url(product))
    with committed():
        services.set_products_active(
            products=Product.objects.filter(pk=product.pk), is_active=False
        )

    response = api_client.get(product_url(product), HTTP_IF_NONE_MATCH=old["ETag"])

    assert response.status_code == 404


def test_another_etag_or_a_list_without_ours_gets_the_body(api_client):
    ProductFactory()
    etag = api_client.get(PRODUCTS)["ETag"]

    other = api_client.get(PRODUCTS, HTTP_IF_NONE_MATCH='"something-else"')
    several = api_client.get(PRODUCTS, HTTP_IF_NONE_MATCH=f'"a", {etag}, "b"')

    assert other.status_code == 200
    assert other.json()["count"] == 1
    assert several.status_code == 304


def test_each_query_string_has_its_own_etag(api_client):
    ProductFactory(stock=0)
    ProductFactory(stock=4)

    every = api_client.get(PRODUCTS)
    in_stock = api_client.get(
        PRODUCTS, {"in_stock": "true"}, HTTP_IF_NONE_MATCH=every["ETag"]
    )

    assert in_stock.status_code == 200
    assert in_stock.json()["count"] == 1
    assert in_stock["ETag"] != every["ETag"]


def test_staff_read_the_database_whatever_etag_they_send(api_client, staff_client):
    ProductFactory(is_active=False)
    public = api_client.get(PRODUCTS)

    response = staff_client.get(PRODUCTS, HTTP_IF_NONE_MATCH=public["ETag"])

    assert public.json()["count"] == 0
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert "ETag" not in response


# --- The cached answer, served before DRF's dispatch ----------------------------


def test_the_cached_answer_carries_the_headers_of_the_first(api_client):
    ProductFactory()
    first = api_client.get(PRODUCTS)

    second = api_client.get(PRODUCTS)

    for header in ("Content-Type", "Allow", "Vary", "ETag", "X-Frame-Options"):
        assert second[header] == first[header]


def test_a_bad_token_is_refused_also_when_the_answer_is_cached(api_client):
    ProductFactory()
    api_client.get(PRODUCTS)
    client = APIClient(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.get(PRODUCTS)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_client_that_takes_no_json_is_refused_also_when_the_answer_is_cached(
    api_client,
):
    ProductFactory()
    api_client.get(PRODUCTS)

    response = api_client.get(PRODUCTS, HTTP_ACCEPT="text/html")

    assert response.status_code == 406


def test_a_staff_session_reads_inactive_products_also_when_the_answer_is_cached(
    api_client, client
):
    ProductFactory(is_active=False, category=CategoryFactory())
    api_client.get(PRODUCTS)
    client.force_login(UserFactory(is_staff=True))

    response = client.get(PRODUCTS)

    assert response.json()["count"] == 1
