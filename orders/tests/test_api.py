from decimal import Decimal

import django_ratelimit.core
import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import AddressFactory, StaffFactory, UserFactory
from carts.models import CartItem
from catalog import services as catalog_services
from catalog.models import Product
from catalog.tests.factories import ProductFactory, variant_of
from core.testing import assert_problem
from orders.models import Order
from orders.tests.conftest import client_for
from orders.tests.factories import (
    APPROVED_CARD,
    DECLINED_CARD,
    OrderFactory,
    PaidOrderFactory,
    address,
    fill_cart,
)

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def order_url(order, action=""):
    return f"{ORDERS}{order.pk}/{action + '/' if action else ''}"


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def checkout_body(**changes):
    return {"shipping_address": address(), **changes}


def bearer(user):
    return str(AccessToken.for_user(user))


def iso(moment):
    return timezone.localtime(moment, timezone.UTC).isoformat().replace("+00:00", "Z")


# --- POST /orders/: checkout ------------------------------------------------


def test_checkout_answers_201_with_the_order_and_empties_the_cart(
    customer, customer_client
):
    mug = ProductFactory(sku="MUG", name="Mug", price=Decimal("12.50"), stock=5)
    fill_cart(customer, (mug, 2))

    response = customer_client.post(
        ORDERS, checkout_body(note="Leave at the door"), format="json"
    )

    assert response.status_code == 201, response.content
    order = Order.objects.get()
    change = order.history.get()
    assert response.json() == {
        "id": order.pk,
        "number": order.number,
        "status": "pending",
        "email": "ada@example.com",
        "items": [
            {
                "product": mug.pk,
                "variant": variant_of(mug).pk,
                "sku": "MUG",
                "name": "Mug",
                "options": "",
                "unit_price": "12.50",
                "quantity": 2,
                "line_total": "25.00",
                "discount": "0.00",
                "tax_rate": "0.00",
            }
        ],
        "subtotal": "25.00",
        "discount_total": "0.00",
        "shipping_cost": "5.00",
        "tax_total": "0.00",
        "prices_include_tax": False,
        "total": "30.00",
        "currency": "USD",
        "voucher": None,
        "shipping_address": address(),
        "shipping_method": None,
        "note": "Leave at the door",
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "status_history": [{"status": "pending", "at": iso(change.at)}],
    }
    assert not CartItem.objects.filter(cart__user=customer).exists()
    assert stock_of(mug) == 3


def test_checkout_answers_with_the_order_as_it_reads_back(customer, customer_client):
    # The answer shows the lines and history as written, without reading
    # them back: the same body as the order's own page, lines in id order.
    fill_cart(
        customer,
        (ProductFactory(price=Decimal("3.10")), 3),
        (ProductFactory(price=Decimal("0.99")), 1),
        (ProductFactory(price=Decimal("120.00")), 2),
    )

    placed = customer_client.post(ORDERS, checkout_body(), format="json")

    assert placed.status_code == 201
    shown = customer_client.get(order_url(Order.objects.get()))
    assert placed.json() == shown.json()
    assert [item["quantity"] for item in placed.json()["items"]] == [3, 1, 2]


def test_checkout_fills_in_the_optional_address_fields(customer, customer_client):
    fill_cart(customer, (ProductFactory(), 1))
    shipping_address = address(country="us", postal_code="10001")
    del shipping_address["line2"], shipping_address["phone"]

    response = customer_client.post(
        ORDERS, {"shipping_address": shipping_address}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["shipping_address"] == address(
        country="US", postal_code="10001", line2="", phone=""
    )


def test_checkout_ships_to_a_saved_address_by_its_id(customer, customer_client):
    fill_cart(customer, (ProductFactory(), 1))
    saved = AddressFactory(user=customer, city="Bath", postal_code="BA1 1LT")

    response = customer_client.post(
        ORDERS, {"shipping_address_id": saved.pk}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["shipping_address"] == saved.as_shipping_address()
    # The order keeps its own copy.
    saved.delete()
    order = Order.objects.get()
    assert order.shipping_address["city"] == "Bath"


@pytest.mark.parametrize(
    "body",
    [
        {"shipping_address_id": "theirs"},
        {"shipping_address_id": 0},
        {"shipping_address_id": 2**70},
        {"shipping_address_id": "mine", "shipping_address": address()},
    ],
    ids=["another-users", "unknown", "out-of-range", "both"],
)
def test_checkout_with_a_bad_address_id_is_400_naming_it(
    customer, customer_client, body
):
    mug = ProductFactory(stock=3)
    fill_cart(customer, (mug, 1))
    ids = {
        "theirs": AddressFactory().pk,
        "mine": AddressFactory(user=customer).pk,
    }
    body = {
        **body,
        "shipping_address_id": ids.get(
            body["shipping_address_id"], body["shipping_address_id"]
        ),
    }

    response = customer_client.post(ORDERS, body, format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["shipping_address_id"]
    assert not Order.objects.exists()
    assert stock_of(mug) == 3


def test_checkout_saves_the_address_in_the_book_when_asked(customer, customer_client):
    fill_cart(customer, (ProductFactory(), 1))

    response = customer_client.post(
        ORDERS, checkout_body(save_address=True), format="json"
    )

    assert response.status_code == 201
    assert [
        (saved.as_shipping_address(), saved.is_default_shipping)
        for saved in customer.addresses.all()
    ] == [(address(), True)]


def test_checkout_without_save_address_leaves_the_book_alone(customer, customer_client):
    fill_cart(customer, (ProductFactory(), 1))

    customer_client.post(ORDERS, checkout_body(), format="json")

    assert not customer.addresses.exists()


def test_checkout_without_a_login_or_a_cart_token_is_an_empty_cart(api_client):
    # A guest checks out its cart by token (test_guest_checkout.py).
    response = api_client.post(ORDERS, checkout_body(), format="json")

    assert_problem(response, 400, "cart_empty")
    assert not Order.objects.exists()


def test_checkout_of_an_empty_cart_is_400_cart_empty(customer_client):
    response = customer_client.post(ORDERS, checkout_body(), format="json")

    body = assert_problem(response, 400, "cart_empty")
    assert "empty" in body["detail"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"shipping_address": ["This field is required."]}),
        (
            {"shipping_address": address(country="Germany")},
            {
                "shipping_address.country": [
                    "Ensure this field has no more than 2 characters."
                ]
            },
        ),
        (
            {"shipping_address": address(country="ZZ")},
            {
                "shipping_address.country": [
                    "Enter a two-letter ISO 3166-1 country code, such as US or DE."
                ]
            },
        ),
        (
            {"shipping_address": address(full_name="", city="")},
            {
                "shipping_address.full_name": ["This field may not be blank."],
                "shipping_address.city": ["This field may not be blank."],
            },
        ),
        (
            {"shipping_address": address(phone="call me")},
            {
                "shipping_address.phone": [
                    "Enter a phone number: digits, spaces, + ( ) . - only, "
                    "5 to 20 digits."
                ]
            },
        ),
        (
            {"shipping_address": "10 Downing Street"},
            {
                "shipping_address.non_field_errors": [
                    "Invalid data. Expected a dictionary, but got str."
                ]
            },
        ),
        (
            checkout_body(expected_total="abc"),
            {"expected_total": ["A valid number is required."]},
        ),
        (
            checkout_body(expected_total="-1.00"),
            {"expected_total": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            checkout_body(note="x" * 1001),
            {"note": ["Ensure this field has no more than 1000 characters."]},
        ),
    ],
)
def test_checkout_with_bad_input_is_400_naming_the_fields(
    customer, customer_client, body, errors
):
    product = ProductFactory(stock=3)
    fill_cart(customer, (product, 1))

    response = customer_client.post(ORDERS, body, format="json")

    assert assert_problem(response, 400, "validation_error")["errors"] == errors
    assert stock_of(product) == 3
    assert not Order.objects.exists()


def test_checkout_of_a_body_that_is_not_json_is_400_parse_error(customer_client):
    response = customer_client.post(
        ORDERS, "{not json", content_type="application/json"
    )

    assert_problem(response, 400, "parse_error")


def test_checkout_with_lines_above_stock_is_409_naming_every_line(
    customer, customer_client
):
    mug = ProductFactory(sku="MUG", stock=1)
    tea = ProductFactory(sku="TEA", stock=9, is_active=False)
    pen = ProductFactory(sku="PEN", stock=9)
    cart = fill_cart(customer, (mug, 3), (tea, 1), (pen, 1))

    response = customer_client.post(ORDERS, checkout_body(), format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["errors"] == {
        f"products.{mug.pk}": ["Only 1 of MUG in stock; 3 requested."],
        f"products.{tea.pk}": ["TEA is no longer for sale."],
    }
    items = {item.variant.product_id: item.pk for item in cart.items.all()}
    assert body["shortages"] == [
        {
            "product_id": mug.pk,
            "sku": "MUG",
            "requested": 3,
            "available": 1,
            "is_active": True,
            "variant_id": variant_of(mug).pk,
            "item": items[mug.pk],
        },
        {
            "product_id": tea.pk,
            "sku": "TEA",
            "requested": 1,
            "available": 0,
            "is_active": False,
            "variant_id": variant_of(tea).pk,
            "item": items[tea.pk],
        },
    ]
    assert (stock_of(mug), stock_of(tea), stock_of(pen)) == (1, 9, 9)
    assert cart.items.count() == 3
    assert not Order.objects.exists()


def test_checkout_with_the_total_shown_is_201(customer, customer_client):
    fill_cart(customer, (ProductFactory(price=Decimal("30.00")), 2))

    response = customer_client.post(
        ORDERS, checkout_body(expected_total="60.00"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["total"] == "60.00"


def test_checkout_with_another_total_is_409_price_changed_with_the_figures(
    customer, customer_client
):
    mug = ProductFactory(price=Decimal("20.00"), stock=5)
    fill_cart(customer, (mug, 2))
    catalog_services.update_product(product=mug, price=Decimal("26.00"))

    response = customer_client.post(
        ORDERS, checkout_body(expected_total="40.00"), format="json"
    )

    body = assert_problem(response, 409, "price_changed")
    assert {key: body[key] for key in ("subtotal", "shipping_cost", "total")} == {
        "subtotal": "52.00",
        "shipping_cost": "0.00",
        "total": "52.00",
    }
    assert body["expected_total"] == "40.00"
    assert body["currency"] == "USD"
    assert stock_of(mug) == 5
    assert CartItem.objects.filter(cart__user=customer).count() == 1
    assert not Order.objects.exists()


def test_a_retry_with_the_same_idempotency_key_is_200_with_the_same_order(
    customer, customer_client
):
    mug = ProductFactory(stock=5)
    fill_cart(customer, (mug, 1))
    first = customer_client.post(
        ORDERS, checkout_body(), format="json", headers={"Idempotency-Key": "abc-1"}
    )

    again = customer_client.post(
        ORDERS, checkout_body(), format="json", headers={"Idempotency-Key": "abc-1"}
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert stock_of(mug) == 4


def test_the_same_idempotency_key_with_another_body_is_422_and_changes_nothing(
    customer, customer_client
):
    mug = ProductFactory(stock=5)
    fill_cart(customer, (mug, 1))
    headers = {"Idempotency-Key": "abc-1"}
    first = customer_client.post(
        ORDERS, checkout_body(), format="json", headers=headers
    )
    fill_cart(customer, (mug, 1))

    reused = customer_client.post(
        ORDERS, checkout_body(note="Another parcel"), format="json", headers=headers
    )

    assert first.status_code == 201
    assert_problem(reused, 422, "idempotency_key_reused")
    assert Order.objects.count() == 1
    assert stock_of(mug) == 4
    assert CartItem.objects.filter(cart__user=customer).count() == 1


def test_a_refused_checkout_is_not_remembered_under_its_key(customer, customer_client):
    mug = ProductFactory(stock=0)
    fill_cart(customer, (mug, 1))
    headers = {"Idempotency-Key": "abc-1"}
    refused = customer_client.post(
        ORDERS, checkout_body(), format="json", headers=headers
    )
    catalog_services.adjust_stock(variant=variant_of(mug), quantity=2)

    retried = customer_client.post(
        ORDERS, checkout_body(), format="json", headers=headers
    )

    assert_problem(refused, 409, "insufficient_stock")
    assert retried.status_code == 201
    assert stock_of(mug) == 1


def test_an_overlong_idempotency_key_is_400(customer, customer_client):
    fill_cart(customer, (ProductFactory(), 1))

    response = customer_client.post(
        ORDERS, checkout_body(), format="json", headers={"Idempotency-Key": "k" * 101}
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["Idempotency-Key"]


def test_checkout_ignores_a_total_or_status_sent_by_the_customer(
    customer, customer_client
):
    fill_cart(customer, (ProductFactory(price=Decimal("19.99")), 1))

    response = customer_client.post(
        ORDERS,
        checkout_body(status="paid", total="0.01", subtotal="0.01", number="SW-1"),
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total"]) == ("pending", "24.99")
    assert body["number"] != "SW-1"


@pytest.mark.parametrize("lines", [1, 2, 5])
def test_checkout_costs_the_same_statements_whatever_the_carts_size(
    customer, customer_client, django_assert_num_queries, lines
):
    fill_cart(customer, *[(ProductFactory(stock=10), 2) for _ in range(lines)])

    # Whether a sale started or ended since the sale prices were written;
    # the checkout's transaction (a savepoint inside the test's): the cart
    # locked by the update that marks it changed, the lines read; the
    # variants locked, then the products, the variants' stock taken in one
    # update and the products' in another, the movements; the pricing rules
    # of the address's country (methods, tax rates, promotions in one
    # statement); the order, its lines, its history; the lines deleted. The key is not
    # looked up (the order's unique constraint holds it) and the answer
    # reads nothing back.
    with django_assert_num_queries(15):
        response = customer_client.post(
            ORDERS, checkout_body(), format="json", headers={"Idempotency-Key": "k-1"}
        )

    assert response.status_code == 201
    assert len(response.json()["items"]) == lines
    assert Product.objects.filter(stock=8).count() == lines


def test_a_checkout_with_a_bearer_token_reads_the_user_in_one_statement(
    customer, django_assert_num_queries
):
    fill_cart(customer, (ProductFactory(stock=10), 2))
    client = APIClient(headers={"Authorization": f"Bearer {bearer(customer)}"})

    # The user's id and is_active (LeanJWTAuthentication), then the
    # checkout's fifteen.
    with django_assert_num_queries(16):
        response = client.post(ORDERS, checkout_body(), format="json")

    assert response.status_code == 201
    assert Order.objects.get().user == customer


@pytest.mark.parametrize("method", ["post", "get"])
def test_a_deactivated_customers_token_is_401(customer, method):
    fill_cart(customer, (ProductFactory(stock=10), 1))
    client = APIClient(headers={"Authorization": f"Bearer {bearer(customer)}"})
    customer.is_active = False
    customer.save(update_fields=["is_active"])

    response = getattr(client, method)(ORDERS, checkout_body(), format="json")

    assert_problem(response, 401, "authentication_failed")
    assert not Order.objects.exists()


def test_a_retry_costs_the_lookup_of_its_order_and_takes_nothing(
    customer, customer_client, django_assert_num_queries
):
    mug = ProductFactory(stock=5)
    fill_cart(customer, (mug, 1))
    headers = {"Idempotency-Key": "abc-1"}
    first = customer_client.post(
        ORDERS, checkout_body(), format="json", headers=headers
    )

    # The savepoint, the cart locked, its lines read (none left), the order
    # found by its key, the savepoint rolled back (the cart's mark of a change
    # with it) and released; the answer's lines and history.
    # (+1: whether a sale started or ended, before the lines are charged)
    with django_assert_num_queries(9):
        again = customer_client.post(
            ORDERS, checkout_body(), format="json", headers=headers
        )

    assert again.status_code == 200
    assert again.json() == first.json()
    assert stock_of(mug) == 4


@pytest.fixture
def frozen_ratelimit_clock(monkeypatch):
    class Clock:
        @staticmethod
        def time():
            return 1_800_000_000

    monkeypatch.setattr(django_ratelimit.core, "time", Clock)


@pytest.mark.usefixtures("frozen_ratelimit_clock")
def test_checkouts_are_limited_per_user(settings, customer, customer_client):
    settings.RATELIMIT_CHECKOUT = "2/m"
    other = client_for(UserFactory())

    answers = [
        customer_client.post(ORDERS, checkout_body(), format="json").status_code
        for _ in range(3)
    ]
    listing = customer_client.get(ORDERS)
    someone_else = other.post(ORDERS, checkout_body(), format="json")

    assert answers == [400, 400, 429]
    assert listing.status_code == 200
    assert_problem(someone_else, 400, "cart_empty")
    refused = customer_client.post(ORDERS, checkout_body(), format="json")
    assert_problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) >= 1


# --- GET /orders/ -----------------------------------------------------------


def test_a_customer_lists_their_own_orders_newest_first(customer, customer_client):
    older = OrderFactory(user=customer)
    newer = OrderFactory(user=customer)
    OrderFactory()  # someone else's

    response = customer_client.get(ORDERS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [order["number"] for order in body["results"]] == [
        newer.number,
        older.number,
    ]
    assert body["results"][0]["items"][0]["quantity"] == 1


def test_staff_list_every_order_and_filter_by_status_and_user(staff_client):
    ada, bob = UserFactory(), UserFactory()
    ada_pending = OrderFactory(user=ada)
    ada_paid = PaidOrderFactory(user=ada)
    bob_paid = PaidOrderFactory(user=bob)

    everything = staff_client.get(ORDERS).json()
    paid = staff_client.get(ORDERS, {"status": "paid"}).json()
    adas = staff_client.get(ORDERS, {"user": ada.pk}).json()
    adas_paid = staff_client.get(ORDERS, {"user": ada.pk, "status": "paid"}).json()

    def numbers(body):
        return [order["number"] for order in body["results"]]

    assert numbers(everything) == [bob_paid.number, ada_paid.number, ada_pending.number]
    assert numbers(paid) == [bob_paid.number, ada_paid.number]
    assert numbers(adas) == [ada_paid.number, ada_pending.number]
    assert numbers(adas_paid) == [ada_paid.number]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"status": "lost"},
            {
                "status": [
                    "Select a valid choice. lost is not one of the available choices."
                ]
            },
        ),
        (
            {"user": "abc"},
            {
                "user": [
                    "Select a valid choice. "
                    "That choice is not one of the available choices."
                ]
            },
        ),
        (
            {"user": "999999"},
            {
                "user": [
                    "Select a valid choice. "
                    "That choice is not one of the available choices."
                ]
            },
        ),
        ({"page": "0"}, {"page": ["Enter a positive whole number."]}),
    ],
)
def test_bad_list_filters_are_400_naming_the_parameter(staff_client, params, errors):
    response = staff_client.get(ORDERS, params)

    assert assert_problem(response, 400, "validation_error")["errors"] == errors


def test_a_customer_filtering_by_another_user_sees_nothing_of_theirs(
    customer, customer_client
):
    other = OrderFactory()
    OrderFactory(user=customer)

    response = customer_client.get(ORDERS, {"user": other.user.pk})

    assert response.json()["count"] == 0


def test_listing_orders_needs_a_logged_in_user(api_client):
    assert_problem(api_client.get(ORDERS), 401, "not_authenticated")


def test_the_list_costs_the_same_queries_for_one_order_or_many(
    staff_client, django_assert_num_queries
):
    OrderFactory(lines=[(ProductFactory(), 1), (ProductFactory(), 2)])
    # count, orders with their customer, lines, history
    with django_assert_num_queries(4):
        staff_client.get(ORDERS)

    for _ in range(4):
        PaidOrderFactory(lines=[(ProductFactory(), 1), (ProductFactory(), 3)])
    with django_assert_num_queries(4):
        response = staff_client.get(ORDERS)

    assert response.json()["count"] == 5


# --- GET /orders/{id}/ ------------------------------------------------------


def test_the_customer_reads_their_order_with_its_history(customer, customer_client):
    order = PaidOrderFactory(user=customer)

    response = customer_client.get(order_url(order))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "paid"
    assert [step["status"] for step in body["status_history"]] == ["pending", "paid"]


def test_another_customers_order_is_404(customer_client):
    order = OrderFactory()

    assert_problem(customer_client.get(order_url(order)), 404, "not_found")


def test_staff_read_any_order(staff_client):
    order = OrderFactory()

    response = staff_client.get(order_url(order))

    assert response.json()["number"] == order.number


def test_an_unknown_order_is_404(customer_client):
    assert_problem(customer_client.get(f"{ORDERS}999999/"), 404, "not_found")
    assert_problem(customer_client.get(f"{ORDERS}SW-AAAA-BBBB/"), 404, "not_found")


def test_reading_an_order_costs_three_queries_whatever_its_size(
    customer, customer_client, django_assert_num_queries
):
    small = OrderFactory(user=customer)
    big = OrderFactory(
        user=customer, lines=[(ProductFactory(), n) for n in range(1, 6)]
    )

    for order in (small, big):
        # the order with its customer, its lines, its history
        with django_assert_num_queries(3):
            customer_client.get(order_url(order))


# --- POST /orders/{id}/cancel/ ----------------------------------------------


def test_the_customer_cancels_a_pending_order_and_the_stock_goes_back(
    customer, customer_client
):
    mug = ProductFactory(stock=5)
    order = OrderFactory(user=customer, lines=[(mug, 2)])

    response = customer_client.post(order_url(order, "cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert [s["status"] for s in response.json()["status_history"]] == [
        "pending",
        "cancelled",
    ]
    assert stock_of(mug) == 5


def test_cancelling_twice_is_409_and_restores_nothing(customer, customer_client):
    mug = ProductFactory(stock=5)
    order = OrderFactory(user=customer, lines=[(mug, 2)])
    customer_client.post(order_url(order, "cancel"))

    response = customer_client.post(order_url(order, "cancel"))

    body = assert_problem(response, 409, "invalid_transition")
    assert body["order_status"] == "cancelled"
    assert stock_of(mug) == 5


def test_the_customer_cannot_cancel_a_paid_order(customer, customer_client):
    mug = ProductFactory(stock=5)
    order = PaidOrderFactory(user=customer, lines=[(mug, 2)])

    response = customer_client.post(order_url(order, "cancel"))

    assert_problem(response, 409, "invalid_transition")
    assert stock_of(mug) == 3


def test_staff_cancel_a_paid_order_and_the_stock_goes_back(staff_client):
    mug = ProductFactory(stock=5)
    order = PaidOrderFactory(lines=[(mug, 2)])

    response = staff_client.post(order_url(order, "cancel"))

    assert response.json()["status"] == "cancelled"
    assert stock_of(mug) == 5


def test_staff_cannot_cancel_a_shipped_order(staff, staff_client):
    order = PaidOrderFactory()
    staff_client.patch(order_url(order), {"status": "shipped"}, format="json")

    response = staff_client.post(order_url(order, "cancel"))

    assert_problem(response, 409, "invalid_transition")


def test_cancelling_another_customers_order_is_404(customer_client):
    mug = ProductFactory(stock=5)
    order = OrderFactory(lines=[(mug, 1)])

    assert_problem(customer_client.post(order_url(order, "cancel")), 404, "not_found")
    assert stock_of(mug) == 4


# --- POST /orders/{id}/pay/ -------------------------------------------------


def pay_body(card_number=APPROVED_CARD, **changes):
    return {"payment_method": "test-card", "card_number": card_number, **changes}


def test_paying_with_the_approved_card_makes_the_order_paid(customer, customer_client):
    order = OrderFactory(user=customer)

    response = customer_client.post(order_url(order, "pay"), pay_body(), format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert list(order.payments.values_list("outcome", "amount")) == [
        ("approved", order.total)
    ]


def test_a_declined_card_is_402_and_the_order_stays_pending(customer, customer_client):
    order = OrderFactory(user=customer)

    response = customer_client.post(
        order_url(order, "pay"), pay_body(DECLINED_CARD), format="json"
    )

    body = assert_problem(response, 402, "payment_declined")
    assert body["outcome"] == "declined"
    order.refresh_from_db()
    assert order.status == "pending"
    assert list(order.payments.values_list("outcome", flat=True)) == ["declined"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (pay_body("4242424242424243"), "card_number"),
        (pay_body("not a card"), "card_number"),
        ({"payment_method": "test-card"}, "card_number"),
        (pay_body(payment_method="paypal"), "payment_method"),
        ({"card_number": APPROVED_CARD}, "payment_method"),
    ],
)
def test_paying_with_bad_input_is_400_naming_the_field(
    customer, customer_client, body, field
):
    order = OrderFactory(user=customer)

    response = customer_client.post(order_url(order, "pay"), body, format="json")

    assert list(assert_problem(response, 400, "validation_error")["errors"]) == [field]
    assert not order.payments.exists()


def test_paying_an_order_that_is_not_pending_is_409(customer, customer_client):
    order = PaidOrderFactory(user=customer)

    response = customer_client.post(order_url(order, "pay"), pay_body(), format="json")

    assert assert_problem(response, 409, "invalid_transition")["order_status"] == "paid"
    assert order.payments.count() == 1


def test_paying_another_customers_order_is_404(customer_client):
    order = OrderFactory()

    response = customer_client.post(order_url(order, "pay"), pay_body(), format="json")

    assert_problem(response, 404, "not_found")
    assert not order.payments.exists()


def test_staff_cannot_pay_a_customers_order(staff_client):
    order = OrderFactory()

    response = staff_client.post(order_url(order, "pay"), pay_body(), format="json")

    assert_problem(response, 403, "permission_denied")


# --- PATCH /orders/{id}/ ----------------------------------------------------


def test_staff_move_an_order_along_the_lifecycle(staff, staff_client):
    order = PaidOrderFactory()

    shipped = staff_client.patch(order_url(order), {"status": "shipped"}, format="json")
    delivered = staff_client.patch(
        order_url(order), {"status": "delivered"}, format="json"
    )

    assert shipped.status_code == 200
    assert shipped.json()["status"] == "shipped"
    assert [s["status"] for s in delivered.json()["status_history"]] == [
        "pending",
        "paid",
        "shipped",
        "delivered",
    ]
    assert order.history.last().by == staff


def test_staff_marking_an_order_paid_records_a_manual_payment(staff_client):
    order = OrderFactory()

    response = staff_client.patch(order_url(order), {"status": "paid"}, format="json")

    assert response.json()["status"] == "paid"
    assert list(order.payments.values_list("gateway", "outcome")) == [
        ("manual", "approved")
    ]


def test_staff_cancelling_by_patch_restores_the_stock(staff_client):
    mug = ProductFactory(stock=3)
    order = OrderFactory(lines=[(mug, 3)])

    response = staff_client.patch(
        order_url(order), {"status": "cancelled"}, format="json"
    )

    assert response.json()["status"] == "cancelled"
    assert stock_of(mug) == 3


def test_an_illegal_move_is_409_invalid_transition(staff_client):
    order = OrderFactory()

    response = staff_client.patch(
        order_url(order), {"status": "delivered"}, format="json"
    )

    body = assert_problem(response, 409, "invalid_transition")
    assert body["order_status"] == "pending"
    order.refresh_from_db()
    assert order.status == "pending"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"status": "lost"}, {"status": ['"lost" is not a valid choice.']}),
        ({}, {"status": ["This field is required."]}),
        (
            {"status": "shipped", "total": "0.01"},
            {"total": ["This field cannot be changed."]},
        ),
    ],
)
def test_patch_accepts_the_status_only(staff_client, body, errors):
    order = PaidOrderFactory()

    response = staff_client.patch(order_url(order), body, format="json")

    assert assert_problem(response, 400, "validation_error")["errors"] == errors
    order.refresh_from_db()
    assert (order.status, order.total) == ("paid", Decimal("24.99"))


def test_a_customer_cannot_patch_their_order(customer, customer_client):
    order = OrderFactory(user=customer)

    response = customer_client.patch(
        order_url(order), {"status": "paid", "total": "0.01"}, format="json"
    )

    assert_problem(response, 403, "permission_denied")
    order.refresh_from_db()
    assert order.status == "pending"


@pytest.mark.parametrize("method", ["put", "delete"])
def test_orders_are_neither_replaced_nor_deleted(staff_client, method):
    order = OrderFactory()

    response = getattr(staff_client, method)(order_url(order), {}, format="json")

    assert_problem(response, 405, "method_not_allowed")
    assert Order.objects.filter(pk=order.pk).exists()


def test_deleting_a_customer_with_orders_is_409_conflict(staff_client):
    order = OrderFactory()

    response = staff_client.delete(f"/api/v1/users/{order.user.pk}/")

    assert_problem(response, 409, "conflict")
    assert Order.objects.filter(pk=order.pk).exists()


def test_a_staff_customer_sees_everyones_orders_but_pays_only_their_own():
    staff = StaffFactory()
    own = OrderFactory(user=staff)
    client = client_for(staff)

    response = client.post(order_url(own, "pay"), pay_body(), format="json")

    assert response.json()["status"] == "paid"
