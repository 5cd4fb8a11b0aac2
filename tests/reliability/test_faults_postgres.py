"""PostgreSQL stopped under a running store, and checkouts cut short by database errors.

The outage runs gunicorn (production settings, two workers) on a PostgreSQL
cluster of the test's own, which the test stops and starts again: every
request is answered within seconds with 503 (problem+json in the API, the
HTML page on pages: the catalog, and a logged-in shopper's cart and
checkout, shown or posted to), no traceback reaches the log, and the same
workers serve again once the cluster is back.

The interrupted checkouts run in this process against the test database:
a lock timeout, and a backend terminated by an administrator, after the
stock was taken and the order inserted. Nothing of either remains.
"""

import threading
import time

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from carts.models import CartItem
from carts.services import get_user_cart
from catalog.models import Product, StockMovement
from catalog.tests.factories import ProductFactory, variant_of
from core.testing import assert_problem, current_database_url
from orders.models import Order, OrderItem
from tests.reliability.servers import (
    Gunicorn,
    PostgresCluster,
    RedisServer,
    free_port,
    manage,
    production_environment,
)

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
SEED = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import User
from carts.models import CartItem
from carts.services import get_user_cart
from catalog import services
from catalog.models import Category
from rest_framework_simplejwt.tokens import AccessToken
kitchen = Category.objects.create(name="Kitchen", slug="kitchen")
kettle = services.create_product(sku="KET-1", name="Kettle", slug="kettle",
                                 price="20.00", stock=5, category=kitchen)
user = User.objects.create_user(email="ada@example.com", password="x-long-password")
CartItem.objects.create(
    cart=get_user_cart(user=user), variant=kettle.variants.get(), quantity=1
)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session.create()
print(AccessToken.for_user(user), session.session_key)
"""
# A CSRF cookie and the same secret as the form's token, as Django accepts.
CSRF_SECRET = "reliabilityCsrfSecret0123456789a"


@pytest.fixture(scope="module")
def outage_store(tmp_path_factory, _collected_static_files):
    """gunicorn on a PostgreSQL cluster and a Redis of this module's own."""
    cluster = PostgresCluster(free_port())
    cluster.create()
    cache = RedisServer(free_port(exclude={cluster.port}))
    cache.start()
    environment = production_environment(
        DATABASE_URL=cluster.url,
        REDIS_URL=cache.url,
        DATABASE_CONNECT_TIMEOUT="3",
        # Pages name their static files from the manifest collectstatic
        # writes: the run's own collection (conftest.py) serves.
        STATIC_ROOT=str(settings.STATIC_ROOT),
    )
    try:
        manage("migrate", "--no-input", environment=environment)
        seeded = manage("shell", "-c", SEED, environment=environment).stdout
        token, session = seeded.split()[-2:]
        server = Gunicorn(
            free_port(exclude={cluster.port, cache.port}),
            environment,
            log_path=tmp_path_factory.mktemp("logs") / "gunicorn.log",
        )
        try:
            yield (
                cluster,
                cache,
                server,
                {"Authorization": f"Bearer {token}"},
                {"Cookie": f"sessionid={session}; csrftoken={CSRF_SECRET}"},
            )
        finally:
            server.stop()
    finally:
        cache.stop()
        cluster.destroy()


def timed(server, method, path, **kwargs):
    start = time.monotonic()
    answer = server.request(method, path, **kwargs)
    return (*answer, time.monotonic() - start)


def test_with_postgresql_down_requests_are_503_and_service_resumes(outage_store):
    cluster, cache, server, auth, _ = outage_store
    assert server.request("GET", "/api/v1/orders/", headers=auth)[0] == 200

    cluster.stop()
    # Nothing in the cache may stand in for the database in this test.
    redis.Redis.from_url(cache.url).flushdb()
    try:
        api = [
            timed(server, "GET", "/api/v1/orders/", headers=auth),
            timed(server, "GET", "/api/v1/products/?search=kettle"),
            timed(
                server,
                "POST",
                "/api/v1/cart/items/",
                body={"product": 1, "quantity": 1},
                headers=auth,
            ),
        ]
        page = timed(server, "GET", "/products/?search=kettle")
        ready = timed(server, "GET", "/readyz")
    finally:
        cluster.start()
    back = [server.request("GET", "/api/v1/orders/", headers=auth)[0] for _ in range(4)]
    ready_again = server.request("GET", "/readyz")[0]

    for status, headers, body, seconds in api:
        assert status == 503
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["Retry-After"] == "5"
        assert b'"code": "service_unavailable"' in body
        assert seconds < 5
    status, headers, body, seconds = page
    assert status == 503
    assert headers["Content-Type"].startswith("text/html")
    assert b"The shop is taking a short break" in body
    assert b"Traceback" not in body
    assert seconds < 5
    assert ready[0] == 503
    assert b'"database": "failing"' in ready[2]
    assert back == [200] * 4
    assert ready_again == 200
    assert "Traceback" not in server.log_path.read_text()


def test_a_postgresql_restart_while_idle_costs_no_request(outage_store):
    # Each worker's persistent connection was dropped by the restart; the
    # health check (DJANGO_CONN_HEALTH_CHECKS) finds it and reconnects
    # before the request's first query.
    cluster, _, server, auth, _ = outage_store

    def orders(times):
        return [
            server.request("GET", "/api/v1/orders/", headers=auth)[0]
            for _ in range(times)
        ]

    warm = orders(6)
    cluster.stop()
    cluster.start()
    after = orders(8)

    assert warm == [200] * 6
    assert after == [200] * 8
    assert "Traceback" not in server.log_path.read_text()


def test_with_postgresql_down_the_cart_and_checkout_pages_are_the_503_page(
    outage_store,
):
    cluster, cache, server, _, browser = outage_store
    form = {"csrfmiddlewaretoken": CSRF_SECRET}
    checkout = server.request("GET", "/checkout/", headers=browser)
    assert b'<span class="summary-name">1 \xc3\x97 Kettle</span>' in checkout[2]

    cluster.stop()
    redis.Redis.from_url(cache.url).flushdb()
    try:
        pages = [
            timed(server, "GET", "/cart/", headers=browser),
            timed(server, "GET", "/checkout/", headers=browser),
            timed(
                server,
                "POST",
                "/cart/add/",
                form={**form, "product": 1, "quantity": 1},
                headers=browser,
            ),
            timed(
                server,
                "POST",
                "/checkout/",
                form={**form, "full_name": "Ada", "country": "GB"},
                headers=browser,
            ),
        ]
    finally:
        cluster.start()
    cart_again = server.request("GET", "/cart/", headers=browser)

    for status, headers, body, seconds in pages:
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Retry-After"] == "5"
        assert b"The shop is taking a short break" in body
        assert b"Traceback" not in body
        assert seconds < 5
    assert cart_again[0] == 200
    assert b'<a href="/products/kettle/">Kettle</a></h2>' in cart_again[2]
    assert "Traceback" not in server.log_path.read_text()


# --- A checkout cut short by a database error --------------------------------------


@pytest.fixture
def checkout_case(transactional_db):
    kettle = ProductFactory(sku="KET-1", stock=5)
    customer = UserFactory(email="ada@example.com")
    CartItem.objects.create(
        cart=get_user_cart(user=customer), variant=kettle.variants.get(), quantity=2
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(customer)}")
    return kettle, customer, client


def database_state(kettle, customer):
    return {
        "stock": Product.objects.get(pk=kettle.pk).stock,
        "movements": StockMovement.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": OrderItem.objects.count(),
        "cart": list(
            CartItem.objects.filter(cart__user=customer).values_list(
                "variant_id", "quantity"
            )
        ),
    }


def other_connection():
    return psycopg.connect(current_database_url(), autocommit=True)


def test_a_checkout_cut_short_by_a_lock_timeout_leaves_nothing(checkout_case):
    kettle, customer, client = checkout_case
    before = database_state(kettle, customer)
    with other_connection() as blocker, connection.cursor() as cursor:
        # The checkout takes the stock and inserts the order, then waits
        # for this lock to insert the order's lines, and gives up.
        cursor.execute("SET lock_timeout = '300ms'")
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE orders_orderitem IN SHARE MODE")
        try:
            response = client.post(
                "/api/v1/orders/", {"shipping_address": ADDRESS}, format="json"
            )
        finally:
            blocker.execute("ROLLBACK")
            cursor.execute("SET lock_timeout = 0")

    assert_problem(response, 503, "service_unavailable")
    assert database_state(kettle, customer) == before
    assert before["cart"] == [(variant_of(kettle).pk, 2)]


def test_a_checkout_whose_connection_is_killed_leaves_nothing(checkout_case):
    kettle, customer, client = checkout_case
    before = database_state(kettle, customer)
    answers = []
    with other_connection() as blocker, other_connection() as admin:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE orders_orderitem IN SHARE MODE")

        def checkout():
            try:
                answers.append(
                    client.post(
                        "/api/v1/orders/", {"shipping_address": ADDRESS}, format="json"
                    )
                )
            finally:
                connection.close()  # this thread's own

        buyer = threading.Thread(target=checkout)
        buyer.start()
        waiting = []
        deadline = time.monotonic() + 10
        while not waiting and time.monotonic() < deadline:
            waiting = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO \"orders_orderitem\"%%'"
            ).fetchall()
            time.sleep(0.05)
        assert waiting, "the checkout never reached the order lines"
        admin.execute("SELECT pg_terminate_backend(%s)", [waiting[0][0]])
        buyer.join(timeout=15)
        blocker.execute("ROLLBACK")

    assert_problem(answers[0], 503, "service_unavailable")
    assert database_state(kettle, customer) == before
    retry = client.post("/api/v1/orders/", {"shipping_address": ADDRESS}, format="json")
    assert retry.status_code == 201
    assert Product.objects.get(pk=kettle.pk).stock == 3
