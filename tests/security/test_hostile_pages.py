"""Hostile input on pages and in the admin: markup shown as text, injections harmless.

A product or category whose name and description carry script tags, and a
customer whose name does, are shown escaped on every page that shows them
and in the admin. Searches and filters with SQL or template syntax, NUL
characters and over-long values never fail a page.

Pages are listed in PAGES_SHOWING_A_PRODUCT, by what they need (a page is
added by adding its row); the customer's cart holds the hostile product and
the shipping address of their last order is markup and template syntax too,
which the checkout offers again and the order page shows. The forms of the
cart, checkout and order pages are attacked in test_hostile_page_forms.py.
"""

import pytest
from django.test import Client

from accounts.tests.factories import AddressFactory, StaffFactory, UserFactory
from accounts.tests.otp import log_in_to_the_admin
from carts.models import CartItem
from carts.services import get_user_cart
from catalog.tests.factories import CategoryFactory, ProductFactory
from orders.tests.factories import OrderFactory, address

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('pwned')</script>"
IMAGE = '<img src=x onerror="alert(1)">'
ESCAPED_SCRIPT = "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;"
TEMPLATE = "{{ settings.SECRET_KEY }}"


@pytest.fixture
def hostile():
    """A catalog and a customer whose every text is markup."""
    category = CategoryFactory(
        name=f"Tea {SCRIPT}", slug="tea", description=f"Leaves {IMAGE}"
    )
    product = ProductFactory(
        name=f"Kettle {SCRIPT}",
        slug="kettle",
        sku="KET-1",
        description=f"Boils {IMAGE} {SCRIPT}",
        category=category,
        stock=5,
    )
    customer = UserFactory(email="eve@example.com", first_name=SCRIPT, last_name=IMAGE)
    order = OrderFactory(
        user=customer,
        lines=[(product, 1)],
        note=SCRIPT,
        shipping_address=address(full_name=f"Eve {SCRIPT}", line1=TEMPLATE),
    )
    AddressFactory(
        user=customer,
        full_name=f"Eve {SCRIPT}",
        line1=TEMPLATE,
        line2="Flat 3",
        is_default_shipping=True,
    )
    CartItem.objects.create(
        cart=get_user_cart(user=customer), variant=product.variants.get(), quantity=1
    )
    return {"product": product, "customer": customer, "order": order}


def logged_in(user):
    client = Client()
    if user.is_staff:
        log_in_to_the_admin(client, user)
    else:
        client.force_login(user)
    return client


def assert_escaped(response):
    page = response.content.decode()
    assert response.status_code == 200, page[:500]
    assert SCRIPT not in page
    assert IMAGE not in page
    assert 'onerror="alert' not in page
    assert "test-only-" not in page  # the test settings' secret key
    return page


# Pages showing the hostile product or category: (path, who looks, must show).
PAGES_SHOWING_A_PRODUCT = [
    ("/", None, ESCAPED_SCRIPT),
    ("/products/", None, ESCAPED_SCRIPT),
    ("/products/?search=Kettle", None, ESCAPED_SCRIPT),
    ("/products/kettle/", None, ESCAPED_SCRIPT),
    ("/categories/tea/", None, ESCAPED_SCRIPT),
    ("/cart/", "customer", ESCAPED_SCRIPT),
    ("/checkout/", "customer", ESCAPED_SCRIPT),
    ("/account/", "customer", ESCAPED_SCRIPT),
    ("/account/orders/", "customer", None),
    ("order", "customer", ESCAPED_SCRIPT),
]


@pytest.mark.parametrize(("path", "who", "shows"), PAGES_SHOWING_A_PRODUCT)
def test_markup_in_names_and_descriptions_is_shown_escaped(hostile, path, who, shows):
    client = logged_in(hostile["customer"]) if who else Client()
    if path == "order":
        path = hostile["order"].get_absolute_url()

    page = assert_escaped(client.get(path))

    if shows:
        assert shows in page


def test_the_checkout_summary_and_saved_address_show_markup_as_text(hostile):
    page = assert_escaped(logged_in(hostile["customer"]).get("/checkout/"))

    assert f'<span class="summary-name">1 \u00d7 Kettle {ESCAPED_SCRIPT}</span>' in page
    # The saved address, offered as "Ship to": escaped, and its template
    # syntax shown as typed, never evaluated.
    assert (
        f"Eve {ESCAPED_SCRIPT}, {TEMPLATE}, Flat 3, SW1Y 4JH London, United Kingdom"
        in page
    )


def test_the_address_book_shows_markup_as_text(hostile):
    page = assert_escaped(logged_in(hostile["customer"]).get("/account/addresses/"))

    assert f"Eve {ESCAPED_SCRIPT}, {TEMPLATE}, Flat 3" in page


def test_the_order_page_shows_the_address_and_note_as_text(hostile):
    order = hostile["order"]

    page = assert_escaped(logged_in(hostile["customer"]).get(order.get_absolute_url()))

    assert f"Eve {ESCAPED_SCRIPT}<br>\n        {TEMPLATE}<br>" in page
    assert f'<th scope="row">Kettle {ESCAPED_SCRIPT} <span class="sku">' in page
    assert f"<p>Note: {ESCAPED_SCRIPT}</p>" in page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/catalog/product/",
        "/admin/catalog/product/?q=Kettle",
        "product",
        "/admin/catalog/category/",
        "/admin/accounts/user/",
        "user",
        "/admin/orders/order/",
        "order",
        "/admin/catalog/stockmovement/",
    ],
)
def test_markup_is_shown_escaped_in_the_admin(hostile, path):
    staff = StaffFactory(is_superuser=True)
    objects = {
        "product": f"/admin/catalog/product/{hostile['product'].pk}/change/",
        "user": f"/admin/accounts/user/{hostile['customer'].pk}/change/",
        "order": f"/admin/orders/order/{hostile['order'].pk}/change/",
    }

    page = assert_escaped(logged_in(staff).get(objects.get(path, path)))

    if path != "/admin/orders/order/":  # its list shows numbers and emails
        assert "&lt;script&gt;" in page


INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE catalog_product; --",
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "%(password)s",
    SCRIPT,
    "a\u0000b",
    "x" * 5000,
]


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize(
    "parameter",
    [
        "search",
        "category",
        "ordering",
        "min_price",
        "max_price",
        "in_stock",
        "option",
        "page",
    ],
)
def test_hostile_catalog_queries_never_fail_a_page(hostile, client, parameter, text):
    response = client.get("/products/", {parameter: text})

    page = response.content.decode()
    assert response.status_code == 200
    assert SCRIPT not in page
    assert "test-only-" not in page  # the test settings' secret key


@pytest.mark.parametrize("text", INJECTIONS)
def test_hostile_admin_searches_never_fail(hostile, text):
    staff = StaffFactory(is_superuser=True)

    responses = [
        logged_in(staff).get(path, {"q": text})
        for path in (
            "/admin/catalog/product/",
            "/admin/accounts/user/",
            "/admin/orders/order/",
        )
    ]

    assert [response.status_code for response in responses] == [200, 200, 200]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accounts/login/", {"username": "a\u0000@example.com", "password": "x"}),
        ("/accounts/login/", {"username": SCRIPT, "password": SCRIPT}),
        (
            "/accounts/register/",
            {
                "email": "new@example.com",
                "first_name": "\u0000",
                "password1": "a long passphrase 42",
                "password2": "a long passphrase 42",
            },
        ),
        ("/accounts/password_reset/", {"email": "x" * 5000 + "@example.com"}),
    ],
)
def test_hostile_form_input_is_shown_back_on_the_form(client, path, data):
    response = client.post(path, data)

    page = response.content.decode()
    assert response.status_code == 200
    assert SCRIPT not in page
    assert 'class="errorlist' in page or "error" in page
