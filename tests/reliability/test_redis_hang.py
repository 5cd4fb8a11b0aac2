"""A Redis that hangs under the store: answers stay fast, prices stay right.

A stopped Redis process (SIGSTOP) is worse than one that is down: its
connections are accepted by the kernel and never answered, so every command
waits for the socket timeout. The store's Redis client pays that once: the
circuit breaker (core/redis_breaker.py) then sends nothing to that
server for REDIS_BREAKER_SECONDS, so pages and API reads come from
PostgreSQL at once, a checkout works (its rate limits fail open) and /readyz
names the cache. A price changed while Redis hung is what the store shows
once Redis answers again, never the price cached before.

Each test has a Redis server of its own, on a port no earlier test used
(fresh_redis.py), so that no breaker state carries over.
"""

import os
import signal
import time
from decimal import Decimal

import pytest
import redis
from django.core.cache import caches
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import StaffFactory, UserFactory
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
OLD_PRICE = "13.37"
NEW_PRICE = "17.29"
# What "fast" means here: no Redis timeout in it, with room for a slow machine.
FAST = 0.3


class HangingRedis:
    """A Redis server of the test's own that can be stopped (SIGSTOP) and resumed."""

    def __init__(self):
        self.server = fresh_redis_server()
        self.url = self.server.url
        self.pid = redis.Redis.from_url(self.url).info("server")["process_id"]

    def hang(self):
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def stop(self):
        self.resume()
        self.server.stop()


@pytest.fixture
def hanging_redis(settings):
    """The store's cache and rate-limit counters on a Redis that the test can hang."""
    server = HangingRedis()
    settings.CACHES = {
        alias: {**settings.CACHES["default"], "LOCATION": server.url}
        for alias in ("default", "ratelimit")
    }
    # No probe within a test, unless the test shortens it.
    settings.REDIS_BREAKER_SECONDS = 60
    yield server
    server.stop()
    for alias in ("default", "ratelimit"):
        caches[alias].close()


@pytest.fixture
def kettle():
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    return ProductFactory(
        name="Kettle",
        slug="kettle",
        sku="KET-1",
        category=kitchen,
        price=Decimal(OLD_PRICE),
        stock=5,
    )


def bearer(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def timed(request):
    start = time.perf_counter()
    response = request()
    return response, time.perf_counter() - start


def shown_prices(client, api_client):
    """The kettle's price on its page, in the API's list and in its detail."""
    page = client.get("/products/kettle/").content.decode()
    listed = api_client.get("/api/v1/products/").json()["results"][0]["price"]
    detail = api_client.get("/api/v1/products/kettle/").json()["price"]
    on_page = [price for price in (OLD_PRICE, NEW_PRICE) if price in page]
    return on_page, listed, detail


def test_after_the_first_timeout_pages_and_api_reads_answer_at_once(
    hanging_redis, kettle, client, api_client
):
    client.get("/products/kettle/")
    api_client.get("/api/v1/products/")
    hanging_redis.hang()
    client.get("/")  # waits for the first timeout

    page, page_seconds = timed(lambda: client.get("/products/kettle/"))
    listed, list_seconds = timed(lambda: api_client.get("/api/v1/products/"))
    ready, ready_seconds = timed(lambda: client.get("/readyz"))

    assert (page.status_code, listed.status_code) == (200, 200)
    assert b"Kettle" in page.content
    assert listed.json()["count"] == 1
    assert page_seconds < FAST
    assert list_seconds < FAST
    body = assert_problem(ready, 503, "service_unavailable")
    assert body["checks"] == {"database": "ok", "cache": "failing"}
    assert ready_seconds < FAST


def test_with_redis_hung_a_checkout_through_the_api_works_without_waiting(
    hanging_redis, kettle, api_client
):
    shopper = bearer(UserFactory(email="ada@example.com"))
    hanging_redis.hang()
    api_client.get("/api/v1/products/")  # waits for the first timeout

    added, add_seconds = timed(
        lambda: shopper.post(
            "/api/v1/cart/items/", {"product": kettle.pk, "quantity": 2}, format="json"
        )
    )
    placed, place_seconds = timed(
        lambda: shopper.post(
            "/api/v1/orders/", {"shipping_address": ADDRESS}, format="json"
        )
    )

    assert (added.status_code, placed.status_code) == (201, 201)
    assert placed.json()["total"] == "31.74"
    assert Order.objects.get().total == Decimal("31.74")
    assert add_seconds < FAST
    assert place_seconds < FAST


def test_a_price_changed_while_redis_hung_is_shown_once_it_answers_again(
    hanging_redis,
    kettle,
    client,
    api_client,
    settings,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    settings.REDIS_BREAKER_SECONDS = 1
    staff = bearer(StaffFactory())
    cached_before = shown_prices(client, api_client)
    hanging_redis.hang()
    client.get("/")  # waits for the first timeout
    with django_capture_on_commit_callbacks(execute=True):
        changed = staff.patch(
            "/api/v1/products/kettle/", {"price": NEW_PRICE}, format="json"
        )

    hanging_redis.resume()
    while_the_breaker_is_open = shown_prices(client, api_client)
    time.sleep(1.1)  # then the breaker lets a probe through
    once_redis_is_used_again = shown_prices(client, api_client)
    with django_assert_num_queries(0):
        served_from_redis = shown_prices(client, api_client)

    assert cached_before == ([OLD_PRICE], OLD_PRICE, OLD_PRICE)
    assert changed.status_code == 200
    assert while_the_breaker_is_open == ([NEW_PRICE], NEW_PRICE, NEW_PRICE)
    assert once_redis_is_used_again == ([NEW_PRICE], NEW_PRICE, NEW_PRICE)
    assert served_from_redis == ([NEW_PRICE], NEW_PRICE, NEW_PRICE)
