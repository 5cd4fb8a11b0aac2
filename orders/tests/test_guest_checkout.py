"""Guests: an anonymous cart by its token, checkout with an e-mail address,
the order read, paid and cancelled by its signed link, the cart brought to an
account at login, and the guest orders claimed once the address is confirmed."""

import re
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from carts.models import Cart
from catalog.tests.factories import ProductFactory
from core.testing import assert_problem
from orders import access
from orders.models import Order
from orders.tests.conftest import client_for
from orders.tests.factories import APPROVED_CARD, address, fill_cart
from orders.tests.test_views import checkout_data, field_errors

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"
ORDERS = "/api/v1/orders/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def mug():
    return ProductFactory(name="Mug", price=Decimal("12.50"), stock=5)


def guest_cart(client, product, quantity=1):
    """A guest's cart with one line, by the API; its token."""
    response = client.post(
        ITEMS, {"product": product.pk, "quantity": quantity}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["token"]


def guest_checkout(client, token, **body):
    return client.post(
        ORDERS,
        {"email": "Guest@Example.com", "shipping_address": address(), **body},
        format="json",
        headers={"Cart-Token": token},
    )


# --- The anonymous cart ---------------------------------------------------------------


def test_a_guests_first_cart_write_answers_its_token_and_the_token_reads_it(mug):
    client = APIClient()

    token = guest_cart(client, mug, 2)

    assert token
    cart = client.get(CART, headers={"Cart-Token": token}).json()
    assert (cart["token"], cart["item_count"], cart["subtotal"]) == (
        token,
        2,
        "25.00",
    )
    assert Cart.objects.get(token=token).user is None


def test_a_guest_without_a_token_sees_an_empty_cart_and_nothing_is_made():
    cart = APIClient().get(CART).json()

    assert (cart["id"], cart["token"], cart["items"]) == (None, None, [])
    assert not Cart.objects.exists()


def test_a_cart_token_never_reads_a_customers_cart(mug):
    customer = UserFactory()
    fill_cart(customer, (mug, 3))
    attacker = APIClient()

    for token in ["", "x" * 64, str(Cart.objects.get().pk)]:
        cart = attacker.get(CART, headers={"Cart-Token": token}).json()
        assert cart["items"] == []


def test_logging_in_with_the_cart_token_brings_the_guests_cart_along(mug):
    customer = UserFactory(email="ada@example.com", password=PASSWORD)
    guest = APIClient()
    token = guest_cart(guest, mug, 2)

    response = guest.post(
        TOKEN,
        {"email": "ada@example.com", "password": PASSWORD, "cart_token": token},
        format="json",
    )

    assert response.status_code == 200
    assert client_for(customer).get(CART).json()["item_count"] == 2
    assert not Cart.objects.filter(token=token).exists()


# --- Checkout as a guest --------------------------------------------------------------


def test_a_guest_checks_out_with_an_email_and_reads_the_order_by_its_token(
    mug, django_capture_on_commit_callbacks
):
    client = APIClient()
    token = guest_cart(client, mug, 2)

    with django_capture_on_commit_callbacks(execute=True):
        response = guest_checkout(client, token)

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert (order.user, order.email, body["email"]) == (
        None,
        "guest@example.com",
        "guest@example.com",
    )
    assert body["total"] == "30.00"  # 25.00 and the flat rate's 5.00
    assert client.get(CART, headers={"Cart-Token": token}).json()["items"] == []
    read = APIClient().get(
        f"{ORDERS}{order.pk}/", headers={"Order-Token": body["access_token"]}
    )
    assert read.status_code == 200
    assert "access_token" not in read.json()
    assert mail.outbox[-1].to == ["guest@example.com"]
    # The e-mail's link carries the same token.
    assert access.order_link(order) in mail.outbox[-1].body
    assert access.order_number_for(body["access_token"]) == order.number


def test_a_guest_checkout_needs_an_email(mug):
    client = APIClient()
    token = guest_cart(client, mug)

    response = guest_checkout(client, token, email="")

    assert "email" in assert_problem(response, 400, "validation_error")["errors"]
    assert not Order.objects.exists()


def test_a_guest_checkout_without_a_cart_is_an_empty_cart():
    response = guest_checkout(APIClient(), "no-such-token")

    assert_problem(response, 400, "cart_empty")


def test_a_guest_pays_and_cancels_with_the_order_token(mug):
    client = APIClient()
    placed = guest_checkout(client, guest_cart(client, mug)).json()
    headers = {"Order-Token": placed["access_token"]}

    paid = APIClient().post(
        f"{ORDERS}{placed['id']}/pay/",
        {"payment_method": "test-card", "card_number": APPROVED_CARD},
        format="json",
        headers=headers,
    )

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "paid"


def test_an_order_token_reads_its_order_only(mug):
    client = APIClient()
    first = guest_checkout(client, guest_cart(client, mug)).json()
    other_client = APIClient()
    second = guest_checkout(
        other_client, guest_cart(other_client, mug), email="b@example.com"
    ).json()
    customer_order = Order.objects.create(
        number="SW-CUST-0001",
        user=UserFactory(),
        subtotal=1,
        shipping_cost=0,
        total=1,
        currency="USD",
        shipping_address=address(),
    )
    stranger = APIClient()
    token = {"Order-Token": first["access_token"]}

    assert stranger.get(f"{ORDERS}{second['id']}/", headers=token).status_code == 404
    assert (
        stranger.get(f"{ORDERS}{customer_order.pk}/", headers=token).status_code == 404
    )
    assert stranger.get(f"{ORDERS}{first['id']}/").status_code == 401
    forged = {"Order-Token": first["access_token"][:-2] + "xx"}
    assert stranger.get(f"{ORDERS}{first['id']}/", headers=forged).status_code == 401
    assert stranger.get(ORDERS, headers=token).status_code == 401


def test_a_guests_checkouts_are_limited_per_email_whatever_the_network(mug, settings):
    settings.RATELIMIT_GUEST_CHECKOUT_EMAIL = "1/h"
    first, second = APIClient(), APIClient(REMOTE_ADDR="203.0.113.9")
    assert guest_checkout(first, guest_cart(first, mug)).status_code == 201

    response = guest_checkout(second, guest_cart(second, mug))

    assert_problem(response, 429, "throttled")
    assert Order.objects.count() == 1


# --- The pages ------------------------------------------------------------------------


def test_a_guest_orders_on_the_pages_and_opens_the_order_by_its_link(
    mug, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.post("/cart/add/", {"product": mug.pk, "quantity": 1})
    page = browser.get("/checkout/")
    assert page.status_code == 200
    assert 'name="email"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/checkout/", checkout_data(page, email="ada@example.com")
        )

    order = Order.objects.get()
    assert order.user is None
    link = response["Location"]
    url, token = link.split("?token=")
    assert url == order.get_absolute_url()
    assert access.order_number_for(unquote(token)) == order.number
    assert browser.get(order.get_absolute_url()).status_code == 200
    # Another browser: the link opens it, the bare address asks to log in.
    other = Client()
    assert other.get(order.get_absolute_url()).status_code == 302
    opened = other.get(link)
    assert opened.status_code == 200
    assert "Placed as a guest with ada@example.com" in opened.content.decode()
    assert f"{order.get_absolute_url()}?token=" in mail.outbox[-1].body


def test_a_guest_page_checkout_needs_an_email(mug):
    browser = Client()
    browser.post("/cart/add/", {"product": mug.pk, "quantity": 1})
    page = browser.get("/checkout/")

    response = browser.post("/checkout/", checkout_data(page))

    assert response.status_code == 400
    assert field_errors(response, "email") == ["This field is required."]
    assert not Order.objects.exists()


# --- Claiming guest orders ------------------------------------------------------------


def test_a_customer_claims_the_guest_orders_of_a_confirmed_address(
    mug, django_capture_on_commit_callbacks
):
    client = APIClient()
    guest_checkout(client, guest_cart(client, mug), email="ada@example.com")
    customer = UserFactory(email="ada@example.com")
    browser = Client()
    browser.force_login(customer)
    history = browser.get("/account/orders/")
    assert "1 order was placed as a guest with ada@example.com" in (
        history.content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/account/orders/claim/")

    [link] = re.findall(r"http://\S+/account/orders/claim/\S+/", mail.outbox[-1].body)
    assert mail.outbox[-1].to == ["ada@example.com"]
    assert Order.objects.get().user is None  # nothing moves before the link
    browser.get(link.removeprefix("http://127.0.0.1:8000"))
    assert Order.objects.get().user == customer


def test_a_claim_link_works_for_its_own_account_only(mug):
    client = APIClient()
    guest_checkout(client, guest_cart(client, mug), email="ada@example.com")
    owner = UserFactory(email="ada@example.com")
    intruder = UserFactory(email="eve@example.com")
    token = access.claim_token(owner)
    browser = Client()
    browser.force_login(intruder)

    browser.get(f"/account/orders/claim/{token}/")

    assert Order.objects.get().user is None
