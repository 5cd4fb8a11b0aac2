import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Address, User
from catalog.models import Category, Product, StockMovement
from demo import data
from orders.models import Order, OrderStatusChange, Payment
from pricing.models import ShippingMethod, ShippingZone

pytestmark = pytest.mark.django_db

# The test settings run in production mode, which the command refuses
# without this flag (a test below shows it).
SEED = ["seed_demo", "--allow-production", "--products", "30"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def seed(*args):
    out = StringIO()
    call_command(*(args or SEED), stdout=out)
    return out.getvalue()


# The products sold in options, which every seed adds.
OPTIONED = [spec["sku"] for spec in data.OPTIONED]
RECONCILED = (
    "Stock matches the movements of every variant, and every product the "
    "aggregates of its variants."
)


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Category,
            Product,
            StockMovement,
            User,
            Order,
            OrderStatusChange,
            Payment,
            Address,
            ShippingZone,
            ShippingMethod,
        )
    }


def credentials(output, who):
    """The email and password printed after the line naming `who`'s page."""
    match = re.search(
        rf"{who}.*\n\s+email (\S+)  password (\S+)", output, flags=re.MULTILINE
    )
    return match.groups()


def reconcile():
    out = StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue().splitlines()[-1]


def test_seed_builds_a_store_with_categories_products_accounts_and_orders(
    media_root,
):
    output = seed()

    coffee = Category.objects.get(slug="coffee")
    assert list(coffee.children.values_list("name", flat=True)) == [
        "Whole Beans",
        "Ground Coffee",
        "Capsules & Pods",
    ]
    assert Category.objects.filter(parent=None).count() == 5
    assert Category.objects.count() == 19
    products = Product.objects.exclude(sku__in=OPTIONED)
    assert products.count() == 30
    assert {product.category.parent_id is not None for product in products} == {True}
    assert products.filter(is_active=False).count() == 0  # the first is number 71
    assert products.filter(stock__lte=5).exists()
    for product in products.with_images():
        picture = product.first_image
        assert picture.image.name == f"products/demo/{product.sku.lower()}.png"
        assert (media_root / picture.image.name).stat().st_size < 10_000
        assert picture.alt_text == product.name
        assert (
            media_root / picture.renditions["thumbnail"]["webp"][0]["name"]
        ).exists()
    beans = Product.objects.get(sku="BEA-0506")
    assert (beans.name, beans.description, beans.price, beans.category.slug) == (
        "Sumatra Mandheling Decaf Beans 250 g",
        "Swiss Water decaffeinated, all the taste. Earthy and syrupy, with cedar "
        "notes.",
        Decimal("13.95"),
        "coffee-beans",
    )
    customer = User.objects.get(email=data.CUSTOMER_EMAIL)
    assert sorted(customer.orders.values_list("status", flat=True)) == [
        "cancelled",
        "delivered",
        "paid",
        "pending",
        "shipped",
    ]
    assert [
        (address.line1, address.is_default_shipping)
        for address in customer.addresses.all()
    ] == [(data.SHIPPING_ADDRESS["line1"], True)]
    pending = customer.orders.get(status="pending")
    assert list(pending.payments.values_list("outcome", flat=True)) == ["declined"]
    assert reconcile() == RECONCILED
    assert output.splitlines()[:8] == [
        "Seeding the demo store (30 products)…",
        "  categories: 5 with 14 subcategories (19 new)",
        "  products: 30 of 30",
        "  products in options: 2 (2 new)",
        f"  accounts: {data.STAFF_EMAIL} (new), {data.CUSTOMER_EMAIL} (new)",
        "  shipping zones: 2 (2 new)",
        "  orders: 5 (5 new)",
        output.splitlines()[7],
    ]
    assert re.fullmatch(
        r"Demo store ready in \d+\.\d s: 30 products \(30 new\), 5 orders \(5 new\)\.",
        output.splitlines()[7],
    )
    assert sorted(ShippingMethod.objects.values_list("code", flat=True)) == [
        "intl-priority",
        "ups-2nd-day",
        "usps-ground",
    ]
    assert set(customer.orders.values_list("shipping_method_code", flat=True)) == {
        "usps-ground"
    }


def test_the_seed_has_products_sold_in_sizes_and_colours(media_root):
    seed()

    apron = Product.objects.get(sku="APR-CANVAS")
    assert [(o.name, o.values) for o in apron.option_types.all()] == [
        ("Size", ["S", "M", "L"]),
        ("Colour", ["Natural", "Black"]),
    ]
    assert apron.variants.count() == 6
    variant = apron.variants.get(sku="APR-CANVAS-L-BLACK")
    assert (variant.options, variant.price) == (
        {"Size": "L", "Colour": "Black"},
        Decimal("28.00"),
    )
    assert apron.price == Decimal("24.00")


def test_a_second_run_makes_nothing_twice(media_root):
    seed()
    before = counts()
    files = sorted((media_root / "products" / "demo").iterdir())

    output = seed()

    assert counts() == before
    assert sorted((media_root / "products" / "demo").iterdir()) == files
    assert "  orders: 5 (0 new)" in output.splitlines()
    assert "  shipping zones: 2 (0 new)" in output.splitlines()
    assert "  products in options: 2 (0 new)" in output.splitlines()
    assert reconcile() == RECONCILED


def test_a_larger_run_adds_only_the_missing_products():
    seed()

    output = seed("seed_demo", "--allow-production", "--products", "45")

    assert Product.objects.exclude(sku__in=OPTIONED).count() == 45
    assert Order.objects.count() == 5
    assert "30 products" not in output
    assert "45 products (15 new)" in output


def test_the_printed_customer_credentials_log_in(client):
    email, password = credentials(seed(), "Shop as the customer")

    response = client.post(
        "/accounts/login/", {"username": email, "password": password}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(
        User.objects.get(email=data.CUSTOMER_EMAIL).pk
    )


def test_the_printed_staff_credentials_open_the_catalog_and_order_consoles(client):
    email, password = credentials(seed(), "Run the catalog and the orders")

    client.post("/admin/login/", {"username": email, "password": password})

    assert client.get("/admin/catalog/product/").status_code == 200
    assert client.get("/admin/catalog/product/add/").status_code == 200
    assert client.get("/admin/orders/order/").status_code == 200
    # A staff member, not a superuser: accounts are not theirs to change.
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/user/add/").status_code == 403


def test_a_second_run_restores_the_demo_password(client):
    seed()
    customer = User.objects.get(email=data.CUSTOMER_EMAIL)
    customer.set_password("something-else-entirely")
    customer.save()

    seed()

    assert client.login(username=data.CUSTOMER_EMAIL, password=data.CUSTOMER_PASSWORD)


@pytest.mark.parametrize("count", ["0", "505", "-3"])
def test_a_product_count_out_of_range_is_refused(count):
    with pytest.raises(CommandError) as error:
        seed("seed_demo", "--allow-production", "--products", count)

    assert str(error.value) == f"--products must be from 1 to 504, not {count}."
    assert not Product.objects.exists()


def test_production_mode_is_refused_without_the_flag():
    with pytest.raises(CommandError) as error:
        seed("seed_demo", "--products", "3")

    assert str(error.value).startswith(
        "Refusing to seed in production mode (DJANGO_DEBUG is off)"
    )
    assert not Product.objects.exists()


def test_development_mode_needs_no_flag(settings):
    settings.DEBUG = True

    seed("seed_demo", "--products", "3")

    assert Product.objects.exclude(sku__in=OPTIONED).count() == 3
    # Too few products in stock for the demo orders: they are left out.
    assert Order.objects.count() == 0


def test_the_default_catalog_has_low_stock_some_sold_out_and_two_withdrawn():
    products = data.demo_products(300)

    assert len({product.sku for product in products}) == 300
    assert len({product.name for product in products}) == 300
    assert sum(not product.is_active for product in products) == 2
    assert sum(product.stock == 0 for product in products) == 11
    assert sum(1 <= product.stock <= 5 for product in products) == 23
    assert data.demo_products(300) == products  # the same in every run
