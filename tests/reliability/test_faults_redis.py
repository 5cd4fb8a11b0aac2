"""Redis stopped and started again under the store: it keeps selling, then recovers.

The store's cache and rate-limit counters live in a Redis server of this
test's own, which the test stops and starts; PostgreSQL stays up. While
Redis is away the catalog (API and pages) is read from PostgreSQL,
checkout works (the API, and the pages: a session cart, the account's
cart, the checkout form, the order page), /readyz answers 503 naming the
cache, and the rate limits fail open as docs/security.md documents
(RATELIMIT_FAIL_OPEN, default true) or refuse when set to fail closed.
When Redis is back, the same process uses it again once the circuit
breaker's probe finds it (core/redis_breaker.py), and the catalog
cache starts a new version before its first read.

Each test has a server on a port no earlier test used (fresh_redis.py), so
that no breaker state carries over from one test to the next.
"""

import re
import time
from decimal import Decimal

import pytest
import redis
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from carts.models import CartItem
from carts.services import get_user_cart
from catalog.models import Product
from catalog.services import update_product
from catalog.tests.factories import CategoryFactory, ProductFactory
from core.testing import assert_problem
from orders.models import Order
from tests.reliability.fresh_redis import fresh_redis_server

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


@pytest.fixture
def store_cache(settings):
    """The store's cache and rate-limit counters on this test's Redis."""
    server = fresh_redis_server()
    settings.CACHES = {
        alias: {**settings.CACHES["default"], "LOCATION": server.url}
        for alias in ("default", "ratelimit")
    }
    yield server
    server.stop()
    for alias in ("default", "ratelimit"):
        caches[alias].close()


@pytest.fixture
def shop():
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    return ProductFactory(
        name="Kettle", slug="kettle", sku="KET-1", category=kitchen, stock=5
    )


@pytest.fixture
def customer():
    return UserFactory(email="ada@example.com")


def bearer(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def fail_logins(api_client, times, email="ada@example.com"):
    return [
        api_client.post(
            "/api/v1/auth/token/",
            {"email": email, "password": "wrong password"},
            format="json",
        ).status_code
        for _ in range(times)
    ]


def test_with_redis_stopped_the_catalog_is_read_from_postgresql(
    store_cache, shop, client, api_client
):
    store_cache.stop()

    answers = {
        path: api_client.get(path).status_code
        for path in (
            "/api/v1/products/",
            "/api/v1/products/kettle/",
            "/api/v1/categories/",
            "/api/v1/products/?search=kettle&ordering=price",
        )
    }
    pages = {
        path: client.get(path) for path in ("/", "/products/", "/products/kettle/")
    }

    assert set(answers.values()) == {200}
    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(
        pages, 200
    )
    assert b"Kettle" in pages["/products/kettle/"].content
    assert api_client.get("/api/v1/products/kettle/").json()["stock"] == 5


def test_with_redis_stopped_a_shopper_fills_a_cart_and_checks_out(
    store_cache, shop, customer
):
    store_cache.stop()
    shopper = bearer(customer)

    added = shopper.post(
        "/api/v1/cart/items/", {"product": shop.pk, "quantity": 2}, format="json"
    )
    placed = shopper.post(
        "/api/v1/orders/", {"shipping_address": ADDRESS}, format="json"
    )

    assert added.status_code == 201
    assert placed.status_code == 201
    assert placed.json()["total"] == "44.98"
    assert str(Order.objects.get().total) == "44.98"
    assert Product.objects.get(pk=shop.pk).stock == 3
    assert not CartItem.objects.filter(cart=get_user_cart(user=customer)).exists()


def hidden(page, name):
    return re.search(rf'name="{name}" value="([^"]*)"', page.content.decode())[1]


def test_with_redis_stopped_the_cart_checkout_and_order_pages_work(
    store_cache, shop, customer, client, settings
):
    settings.RATELIMIT_FAIL_OPEN = True  # the cart and checkout limits too
    store_cache.stop()
    visitor = Client()
    client.force_login(customer)

    added = visitor.post("/cart/add/", {"product": shop.pk, "quantity": 1})
    visitors_cart = visitor.get("/cart/")
    client.post("/cart/add/", {"product": shop.pk, "quantity": 2})
    checkout = client.get("/checkout/")
    placed = client.post(
        "/checkout/",
        {
            **ADDRESS,
            "expected_total": hidden(checkout, "expected_total"),
            "idempotency_key": hidden(checkout, "idempotency_key"),
        },
    )
    order = Order.objects.get()
    order_page = client.get(placed["Location"])

    assert (added.status_code, added["Location"]) == (302, "/cart/")
    assert visitors_cart.status_code == 200
    assert b'<a href="/products/kettle/">Kettle</a></h2>' in visitors_cart.content
    assert checkout.status_code == 200
    assert hidden(checkout, "expected_total") == "44.98"
    assert (placed.status_code, placed["Location"]) == (302, f"/orders/{order.number}/")
    assert order_page.status_code == 200
    assert f"Thank you! Your order {order.number} is placed." in (
        order_page.content.decode()
    )
    assert str(order.total) == "44.98"
    assert Product.objects.get(pk=shop.pk).stock == 3


def test_with_redis_stopped_readyz_is_503_naming_the_cache(store_cache, client):
    store_cache.stop()

    response = client.get("/readyz")

    body = assert_problem(response, 503, "service_unavailable")
    assert body["checks"] == {"database": "ok", "cache": "failing"}


def test_with_redis_stopped_login_limits_fail_open_as_documented(
    store_cache, customer, api_client, settings
):
    settings.RATELIMIT_FAIL_OPEN = True
    store_cache.stop()

    statuses = fail_logins(api_client, 8)
    right = api_client.post(
        "/api/v1/auth/token/",
        {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert statuses == [401] * 8
    assert right.status_code == 200


def test_with_redis_stopped_limits_set_to_fail_closed_refuse(
    store_cache, customer, api_client, settings
):
    settings.RATELIMIT_FAIL_OPEN = False
    store_cache.stop()

    response = api_client.post(
        "/api/v1/auth/token/",
        {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert_problem(response, 429, "throttled")
    assert response["Retry-After"] == "60"


def test_when_redis_returns_everything_recovers_without_a_restart(
    store_cache, shop, client, api_client, customer, settings
):
    settings.REDIS_BREAKER_SECONDS = 1
    store_cache.stop()
    assert client.get("/readyz").status_code == 503
    assert api_client.get("/api/v1/products/").status_code == 200
    assert fail_logins(api_client, 6) == [401] * 6

    store_cache.start()
    time.sleep(1.1)  # the breaker then lets a probe through

    assert client.get("/readyz").status_code == 200
    assert api_client.get("/api/v1/products/").status_code == 200
    cached = redis.Redis.from_url(store_cache.url).keys("*catalog:*products*")
    assert cached, "the catalog read was not cached in the returned Redis"
    assert fail_logins(api_client, 6) == [401] * 5 + [429]


def test_a_change_made_while_redis_refused_writes_is_never_served_stale(
    store_cache, shop, api_client, django_capture_on_commit_callbacks
):
    # A Redis that keeps what it has and refuses every write (full, with
    # maxmemory-policy noeviction): it answers, so no breaker opens, but the
    # change's bump is refused while the old entry stays readable.
    api_client.get("/api/v1/products/kettle/")
    server = redis.Redis.from_url(store_cache.url)
    server.config_set("maxmemory-policy", "noeviction")
    server.config_set("maxmemory", 1)
    with django_capture_on_commit_callbacks(execute=True):
        update_product(product=shop, price=Decimal("30.00"))

    while_full = api_client.get("/api/v1/products/kettle/").json()["price"]
    server.config_set("maxmemory", 0)
    once_writable = api_client.get("/api/v1/products/kettle/").json()["price"]

    assert (while_full, once_writable) == ("30.00", "30.00")
