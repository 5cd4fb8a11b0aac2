"""Reaching what is not yours: mass assignment, others' carts, orders and profiles.

A customer may not make themselves staff, set an order's status or total,
or a cart line's price; another user's cart line or order is 404 (not
403, which would confirm it exists), another user's profile 403 as the
contract's users table says. Every refusal leaves every row as it was.
"""

import pytest

from core.testing import assert_problem

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Mallory Mallet",
    "line1": "1 Side Street",
    "city": "Leeds",
    "postal_code": "LS1 1AA",
    "country": "GB",
}


# --- Mass assignment ------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"is_staff": True},
        {"is_superuser": True},
        {"is_active": False},
        {"id": 1},
        {"date_joined": "2000-01-01T00:00:00Z"},
        {"password": "pwned-password-1"},
    ],
)
def test_a_customer_cannot_grant_themselves_anything(mallory_client, mallory, changes):
    before = (mallory.is_staff, mallory.is_superuser, mallory.is_active, mallory.pk)

    response = mallory_client.patch("/api/v1/users/me/", changes, format="json")

    assert response.status_code == 200
    mallory.refresh_from_db()
    assert (mallory.is_staff, mallory.is_superuser, mallory.is_active, mallory.pk) == (
        before
    )
    assert not mallory.check_password("pwned-password-1")
    assert response.json()["is_staff"] is False


def test_registering_as_staff_makes_a_customer(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {
            "email": "eve@example.com",
            "password": "a long passphrase 42",
            "is_staff": True,
            "is_superuser": True,
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["is_staff"] is False


@pytest.mark.usefixtures("unchanged")
def test_a_customer_cannot_make_someone_staff(mallory_client, alice):
    response = mallory_client.patch(
        f"/api/v1/users/{alice.pk}/", {"is_staff": True}, format="json"
    )

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "changes",
    [
        {"status": "paid"},
        {"status": "shipped"},
        {"total": "0.01"},
        {"subtotal": "0.01", "shipping_cost": "0.00"},
    ],
)
def test_a_customer_cannot_set_their_orders_status_or_total(
    alice_client, store, changes
):
    response = alice_client.patch(
        f"/api/v1/orders/{store['order'].pk}/", changes, format="json"
    )

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "changes",
    [
        {"status": "paid", "total": "0.01"},
        {"total": "0.01"},
        {"status": "shipped", "items": []},
        {"number": "SW-0000-0000"},
    ],
)
def test_staff_can_change_only_the_status_along_the_lifecycle(
    staff_client, store, changes
):
    response = staff_client.patch(
        f"/api/v1/orders/{store['order'].pk}/", changes, format="json"
    )

    if set(changes) == {"status"}:
        assert_problem(response, 409, "invalid_transition")
    else:
        assert_problem(response, 400, "validation_error")


def test_a_cart_line_ignores_a_price_or_total_sent_with_it(alice_client, store):
    response = alice_client.post(
        "/api/v1/cart/items/",
        {
            "product": store["teapot"].pk,
            "quantity": 1,
            "unit_price": "0.01",
            "line_total": "0.01",
            "subtotal": "0.01",
        },
        format="json",
    )

    assert response.status_code == 201
    lines = {line["product"]["slug"]: line for line in response.json()["items"]}
    assert lines["teapot"]["unit_price"] == "19.99"
    assert lines["teapot"]["line_total"] == "19.99"


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("who", ["alice", "mallory"])
def test_a_cart_line_refuses_a_variant_of_another_product(request, store, who):
    client = request.getfixturevalue(f"{who}_client")

    response = client.post(
        "/api/v1/cart/items/",
        {
            "product": store["teapot"].pk,
            "variant": store["kettle"].variants.get().pk,
            "quantity": 1,
        },
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"variant": ["This variant is not one of the product's."]}


def test_a_checkout_ignores_totals_and_status_sent_with_it(alice_client, store):
    response = alice_client.post(
        "/api/v1/orders/",
        {
            "shipping_address": ADDRESS,
            "status": "paid",
            "total": "0.01",
            "subtotal": "0.01",
            "items": [{"sku": "KET-1", "unit_price": "0.01", "quantity": 1}],
        },
        format="json",
    )

    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending"
    assert order["subtotal"] == "19.99"
    assert order["total"] == "24.99"


# --- Other users' carts, orders and profiles -------------------------------------


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "body"),
    [("patch", {"quantity": 3}), ("delete", None), ("get", None), ("put", {})],
)
def test_another_users_cart_line_is_404(mallory_client, store, method, body):
    response = getattr(mallory_client, method)(
        f"/api/v1/cart/items/{store['line'].pk}/", body, format="json"
    )

    if method in {"get", "put"}:
        assert_problem(response, 405, "method_not_allowed")
    else:
        assert_problem(response, 404, "not_found")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("post", "cancel/", None),
        (
            "post",
            "pay/",
            {"payment_method": "test-card", "card_number": "4242424242424242"},
        ),
    ],
)
def test_another_users_order_is_404(mallory_client, store, method, suffix, body):
    response = getattr(mallory_client, method)(
        f"/api/v1/orders/{store['order'].pk}/{suffix}", body, format="json"
    )

    assert_problem(response, 404, "not_found")


@pytest.mark.usefixtures("unchanged")
def test_another_users_orders_never_appear_in_a_list(mallory_client, store, alice):
    response = mallory_client.get("/api/v1/orders/", {"user": alice.pk})

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_customers_cart_is_their_own_whatever_they_send(mallory_client, store):
    response = mallory_client.get("/api/v1/cart/", {"user": store["order"].user_id})

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_profile_is_403(mallory_client, alice, method):
    response = getattr(mallory_client, method)(
        f"/api/v1/users/{alice.pk}/", {"first_name": "Pwned"}, format="json"
    )

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged")
def test_the_users_list_is_403_for_customers(mallory_client):
    response = mallory_client.get("/api/v1/users/")

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/orders/"),
        ("get", "/api/v1/orders/1/"),
        ("get", "/api/v1/users/me/"),
        ("post", "/api/v1/products/"),
        ("delete", "/api/v1/categories/tea/"),
    ],
)
def test_anonymous_callers_get_401(api_client, method, path):
    # A guest's cart and checkout need no login: test_guest_checkout.py.
    response = getattr(api_client, method)(path, {}, format="json")

    assert_problem(response, 401, "not_authenticated")


@pytest.mark.usefixtures("unchanged")
def test_a_guest_without_a_cart_token_checks_out_nothing(api_client):
    response = api_client.post("/api/v1/orders/", {}, format="json")

    assert_problem(response, 400, "cart_empty")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/products/", {"sku": "X", "name": "X", "price": "1.00"}),
        ("patch", "/api/v1/products/kettle/", {"price": "0.01"}),
        ("delete", "/api/v1/products/kettle/", None),
        ("post", "/api/v1/categories/", {"name": "Mine"}),
        ("delete", "/api/v1/categories/tea/", None),
    ],
)
def test_customers_cannot_write_the_catalog(mallory_client, store, method, path, body):
    response = getattr(mallory_client, method)(path, body, format="json")

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged")
def test_staff_cannot_pay_a_customers_order(staff_client, store):
    response = staff_client.post(
        f"/api/v1/orders/{store['order'].pk}/pay/",
        {"payment_method": "test-card", "card_number": "4242424242424242"},
        format="json",
    )

    assert_problem(response, 403, "permission_denied")
