"""What the security tests share: a small store, tokens, the database snapshot,
and the schema fuzzing's figures printed at the end of a run."""

import sys

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.clock import ratelimit_clock  # noqa: F401
from accounts.tests.factories import StaffFactory, UserFactory
from carts.models import Cart, CartItem
from carts.services import get_user_cart
from catalog.models import Category, Product, ProductImage, StockMovement
from catalog.tests.factories import CategoryFactory, ProductFactory
from orders.models import Order, OrderItem, OrderStatusChange, Payment
from orders.tests.factories import OrderFactory


def pytest_terminal_summary(terminalreporter):
    fuzzing = sys.modules.get("security.test_schema_fuzz")
    if fuzzing is None or not fuzzing.statistics["cases"]:
        return
    statistics = fuzzing.statistics
    statuses = ", ".join(
        f"{status}: {count}" for status, count in sorted(statistics["statuses"].items())
    )
    terminalreporter.write_line(
        f"schema fuzzing: {len(statistics['operations'])} operations, "
        f"{statistics['cases']} cases as anonymous, customer and staff "
        f"(statuses {statuses})"
    )


# --- The store the hostile requests are aimed at ---------------------------------


def bearer(user):
    """An APIClient sending a real access token for `user`, as a client would."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def alice():
    return UserFactory(email="alice@example.com")


@pytest.fixture
def mallory():
    return UserFactory(email="mallory@example.com")


@pytest.fixture
def staff():
    return StaffFactory(email="staff@example.com")


@pytest.fixture
def mallory_client(mallory):
    return bearer(mallory)


@pytest.fixture
def alice_client(alice):
    return bearer(alice)


@pytest.fixture
def staff_client(staff):
    return bearer(staff)


@pytest.fixture
def store(alice):
    """A category, two products, Alice's cart line and her pending order."""
    tea = CategoryFactory(name="Tea", slug="tea")
    kettle = ProductFactory(
        name="Kettle", slug="kettle", sku="KET-1", category=tea, stock=8
    )
    teapot = ProductFactory(
        name="Teapot", slug="teapot", sku="POT-1", category=tea, stock=5
    )
    order = OrderFactory(user=alice, lines=[(teapot, 2)])
    line = CartItem.objects.create(
        cart=get_user_cart(user=alice), variant=kettle.variants.get(), quantity=1
    )
    return {
        "category": tea,
        "kettle": kettle,
        "teapot": teapot,
        "order": order,
        "line": line,
        "refresh": str(RefreshToken.for_user(alice)),
    }


def database_state():
    """Every row a hostile request might change, as comparable values."""
    return {
        "users": sorted(
            User.objects.values_list("email", "is_staff", "is_active", "password")
        ),
        "categories": sorted(Category.objects.values_list("slug", "name", "parent")),
        "products": sorted(
            Product.objects.values_list(
                "sku", "name", "slug", "price", "stock", "is_active", "description"
            )
        ),
        "product_images": sorted(
            ProductImage.objects.values_list("product_id", "image", "alt_text")
        ),
        "stock_movements": StockMovement.objects.count(),
        "carts": Cart.objects.count(),
        "cart_lines": sorted(
            CartItem.objects.values_list("cart_id", "variant_id", "quantity")
        ),
        "orders": sorted(
            Order.objects.values_list("number", "status", "subtotal", "total", "note")
        ),
        "order_lines": OrderItem.objects.count(),
        "status_changes": OrderStatusChange.objects.count(),
        "payments": Payment.objects.count(),
    }


@pytest.fixture
def unchanged(store, alice, mallory, staff):
    """Assert, after the test, that the database is as the store left it."""
    before = database_state()
    yield
    assert database_state() == before
