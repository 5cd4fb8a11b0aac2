"""The contract's Cart table, through DRF's APIClient with JWT bearer tokens."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.clock import seconds_left
from accounts.tests.factories import UserFactory
from carts import services
from carts.models import Cart, CartItem
from carts.tests.factories import CartFactory, CartItemFactory
from catalog import services as catalog_services
from catalog.tests.factories import ProductFactory, image_file, variant_of
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def item_url(item_or_id):
    return f"{ITEMS}{getattr(item_or_id, 'pk', item_or_id)}/"


def as_user(user):
    client = APIClient()
    access = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def shopper():
    return UserFactory()


@pytest.fixture
def client(shopper):
    return as_user(shopper)


def lines_of(user):
    return list(
        CartItem.objects.filter(cart__user=user)
        .order_by("pk")
        .values_list("variant__product_id", "quantity")
    )


def timestamp(value):
    return value.isoformat().replace("+00:00", "Z")


# --- Who may use the cart -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", CART, 200),
        ("delete", CART, 204),
        ("patch", item_url(1), 404),
        ("delete", item_url(1), 404),
    ],
)
def test_a_caller_without_a_login_or_cart_token_reaches_no_cart(
    api_client, method, path, status
):
    # Guests have carts of their own, by token (orders/tests/test_guest_checkout.py).
    CartItemFactory(pk=1)  # a customer's line

    response = getattr(api_client, method)(path, {"quantity": 1}, format="json")

    assert response.status_code == status, response.content
    assert CartItem.objects.filter(pk=1, quantity__gt=0).exists()
    if method == "get":
        assert response.json()["items"] == []


def test_a_bad_token_is_401_authentication_failed(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(CART)

    assert_problem(response, 401, "authentication_failed")


EVERY_CART_ENDPOINT = [
    ("get", CART),
    ("delete", CART),
    ("post", ITEMS),
    ("patch", item_url(1)),
    ("delete", item_url(1)),
]


@pytest.mark.parametrize(("method", "path"), EVERY_CART_ENDPOINT)
def test_a_deactivated_users_token_is_401_on_every_cart_endpoint(method, path):
    shopper = UserFactory()
    cart = CartFactory(user=shopper)
    CartItemFactory(cart=cart)
    client = as_user(shopper)
    User.objects.filter(pk=shopper.pk).update(is_active=False)

    response = getattr(client, method)(path, {"quantity": 1}, format="json")

    assert_problem(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert cart.items.count() == 1


@pytest.mark.parametrize("with_cart", [True, False])
@pytest.mark.parametrize(("method", "path"), EVERY_CART_ENDPOINT)
def test_a_deleted_users_token_is_401_on_every_cart_endpoint(method, path, with_cart):
    shopper = UserFactory()
    if with_cart:
        CartItemFactory(cart=CartFactory(user=shopper))
    client = as_user(shopper)
    shopper.delete()

    response = getattr(client, method)(path, {"quantity": 1}, format="json")

    assert_problem(response, 401, "authentication_failed")
    assert Cart.objects.count() == 0


# --- GET cart/ ------------------------------------------------------------------------


def test_get_creates_an_empty_cart_on_first_use(client, shopper):
    response = client.get(CART)

    assert response.status_code == 200
    cart = Cart.objects.get(user=shopper)
    assert response.json() == {
        "id": cart.pk,
        "token": None,
        "items": [],
        "item_count": 0,
        "subtotal": "0.00",
        "shipping_country": "US",
        "shipping_method": None,
        "shipping_cost": "0.00",
        "discount": "0.00",
        "voucher": None,
        "tax": "0.00",
        "prices_include_tax": False,
        "total": "0.00",
        "currency": "USD",
        "warnings": [],
        "updated_at": timestamp(cart.updated_at),
    }


def test_get_returns_the_same_cart_every_time(client, shopper):
    first = client.get(CART).json()["id"]

    second = client.get(CART).json()["id"]

    assert first == second
    assert Cart.objects.filter(user=shopper).count() == 1


def test_get_shows_lines_priced_from_the_catalog(client, shopper, settings):
    settings.STORE_CURRENCY = "EUR"
    cart = CartFactory(user=shopper)
    mug = ProductFactory(name="Blue Mug", price=Decimal("3.33"), stock=4)
    tea = ProductFactory(name="Green Tea", price=Decimal("0.10"), stock=0)
    mug_line = CartItemFactory(cart=cart, product=mug, quantity=3)
    tea_line = CartItemFactory(cart=cart, product=tea, quantity=2)

    response = client.get(CART)

    assert response.status_code == 200
    cart.refresh_from_db()
    assert response.json() == {
        "id": cart.pk,
        "token": None,
        "items": [
            {
                "id": mug_line.pk,
                "product": {
                    "id": mug.pk,
                    "slug": "blue-mug",
                    "name": "Blue Mug",
                    "price": "3.33",
                    "image": None,
                    "in_stock": True,
                },
                "variant": {"id": variant_of(mug).pk, "sku": mug.sku, "options": {}},
                "quantity": 3,
                "unit_price": "3.33",
                "line_total": "9.99",
                "discount": "0.00",
                "tax_rate": "0.00",
            },
            {
                "id": tea_line.pk,
                "product": {
                    "id": tea.pk,
                    "slug": "green-tea",
                    "name": "Green Tea",
                    "price": "0.10",
                    "image": None,
                    "in_stock": False,
                },
                "variant": {"id": variant_of(tea).pk, "sku": tea.sku, "options": {}},
                "quantity": 2,
                "unit_price": "0.10",
                "line_total": "0.20",
                "discount": "0.00",
                "tax_rate": "0.00",
            },
        ],
        "item_count": 5,
        "subtotal": "10.19",
        "shipping_country": "US",
        "shipping_method": None,
        "shipping_cost": "5.00",
        "discount": "0.00",
        "voucher": None,
        "tax": "0.00",
        "prices_include_tax": False,
        "total": "15.19",
        "currency": "EUR",
        "warnings": [
            {"item": tea_line.pk, "code": "insufficient_stock", "available": 0}
        ],
        "updated_at": timestamp(cart.updated_at),
    }


def test_get_shows_the_product_image_as_an_absolute_url(
    client, shopper, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory(image=image_file("mug.png"))
    CartItemFactory(cart=CartFactory(user=shopper), product=product)

    response = client.get(CART)

    image = response.json()["items"][0]["product"]["image"]
    assert image == f"http://testserver/media/{product.images.get().image.name}"
    assert image.endswith("/mug.png")


def test_get_shows_a_price_changed_in_the_catalog_at_once(client, shopper):
    product = ProductFactory(price=Decimal("5.00"), stock=10)
    client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")
    catalog_services.update_product(product=product, price=Decimal("6.25"))

    response = client.get(CART)

    line = response.json()["items"][0]
    assert (line["product"]["price"], line["unit_price"], line["line_total"]) == (
        "6.25",
        "6.25",
        "12.50",
    )
    assert response.json()["subtotal"] == "12.50"


def test_get_warns_of_lines_gone_short_or_inactive_since_they_were_added(
    client, shopper
):
    short, retired = ProductFactory(stock=5), ProductFactory(stock=5)
    cart = services.get_user_cart(user=shopper)
    short_line = services.add_item(cart=cart, variant=variant_of(short), quantity=4)
    retired_line = services.add_item(cart=cart, variant=variant_of(retired), quantity=1)
    catalog_services.take_stock(lines=[(variant_of(short).pk, 3)])
    catalog_services.update_product(product=retired, is_active=False)

    response = client.get(CART)

    assert response.json()["warnings"] == [
        {"item": short_line.pk, "code": "insufficient_stock", "available": 2},
        {"item": retired_line.pk, "code": "inactive", "available": 0},
    ]


@pytest.mark.parametrize("lines", [1, 10])
def test_get_costs_the_same_queries_whatever_the_number_of_lines(
    client, shopper, lines, django_assert_num_queries
):
    cart = CartFactory(user=shopper)
    CartItemFactory.create_batch(lines, cart=cart)

    # The token's user, then the cart joined to its lines and their
    # products; the pricing rules of its country (pricing.queries).
    with django_assert_num_queries(3):
        response = client.get(CART)

    assert len(response.json()["items"]) == lines


def test_get_with_a_session_login_shows_the_same_cart_as_with_a_token(
    shopper, django_assert_num_queries
):
    CartItemFactory.create_batch(2, cart=CartFactory(user=shopper))
    with_token = as_user(shopper).get(CART)
    session_client = APIClient()
    session_client.force_login(shopper)

    # The session, its user, then the cart joined to its lines; the pricing
    # rules of its country.
    with django_assert_num_queries(4):
        response = session_client.get(CART)

    assert response.status_code == 200
    assert response.content == with_token.content
    assert len(response.json()["items"]) == 2


# --- DELETE cart/ ---------------------------------------------------------------------


def test_delete_empties_the_callers_cart_only(client, shopper):
    cart = CartFactory(user=shopper)
    CartItemFactory.create_batch(2, cart=cart)
    other = CartItemFactory()

    response = client.delete(CART)

    assert response.status_code == 204
    assert response.content == b""
    assert lines_of(shopper) == []
    assert Cart.objects.filter(pk=cart.pk).exists()
    assert CartItem.objects.filter(pk=other.pk).exists()


def test_delete_of_a_cart_never_used_answers_204(client, shopper):
    response = client.delete(CART)

    assert response.status_code == 204
    assert lines_of(shopper) == []


# --- POST cart/items/ -----------------------------------------------------------------


def test_post_item_adds_a_line_and_answers_201_with_the_cart(client, shopper):
    product = ProductFactory(price=Decimal("2.50"), stock=5)

    response = client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")

    assert response.status_code == 201
    body = response.json()
    item = CartItem.objects.get()
    assert body["id"] == Cart.objects.get(user=shopper).pk
    assert body["items"] == [
        {
            "id": item.pk,
            "product": {
                "id": product.pk,
                "slug": product.slug,
                "name": product.name,
                "price": "2.50",
                "image": None,
                "in_stock": True,
            },
            "variant": {
                "id": variant_of(product).pk,
                "sku": product.sku,
                "options": {},
            },
            "quantity": 2,
            "unit_price": "2.50",
            "line_total": "5.00",
            "discount": "0.00",
            "tax_rate": "0.00",
        }
    ]
    assert (body["item_count"], body["subtotal"], body["warnings"]) == (2, "5.00", [])


def test_post_the_same_product_again_adds_to_its_line(client, shopper):
    product = ProductFactory(stock=10)
    client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")

    response = client.post(ITEMS, {"product": product.pk, "quantity": 3}, format="json")

    assert response.status_code == 201
    assert [line["quantity"] for line in response.json()["items"]] == [5]
    assert lines_of(shopper) == [(product.pk, 5)]


def test_post_accepts_a_quantity_sent_as_a_string_of_digits(client, shopper):
    product = ProductFactory(stock=10)

    response = client.post(
        ITEMS, {"product": str(product.pk), "quantity": "3"}, format="json"
    )

    assert response.status_code == 201
    assert lines_of(shopper) == [(product.pk, 3)]


def test_post_above_the_stock_on_hand_is_409_with_the_available_units(client, shopper):
    product = ProductFactory(stock=5, sku="MUG-1")
    client.post(ITEMS, {"product": product.pk, "quantity": 3}, format="json")

    response = client.post(ITEMS, {"product": product.pk, "quantity": 3}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["detail"] == "Only 5 of MUG-1 in stock; 6 requested."
    assert body["shortages"] == [
        {
            "product_id": product.pk,
            "sku": "MUG-1",
            "requested": 6,
            "available": 5,
            "is_active": True,
            "variant_id": variant_of(product).pk,
        }
    ]
    assert lines_of(shopper) == [(product.pk, 3)]


def test_post_a_product_out_of_stock_is_409(client, shopper):
    product = ProductFactory(stock=0)

    response = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["shortages"][0]["available"] == 0
    assert lines_of(shopper) == []


@pytest.mark.parametrize(
    ("product", "message"),
    [
        (987654, "This product is not for sale."),
        (2**70, "This product is not for sale."),
        ("abc", "Incorrect type. Expected pk value, received str."),
        (True, "Incorrect type. Expected pk value, received bool."),
        (None, "This field may not be null."),
    ],
)
def test_post_an_unknown_product_is_400_naming_the_product(
    client, shopper, product, message
):
    response = client.post(ITEMS, {"product": product, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"product": [message]}
    assert lines_of(shopper) == []


def test_post_an_inactive_product_is_400_naming_the_product(client, shopper):
    product = ProductFactory(is_active=False)

    response = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"product": ["This product is not for sale."]}
    assert lines_of(shopper) == []


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (-2, "Ensure this value is greater than or equal to 1."),
        (1001, "Ensure this value is less than or equal to 1000."),
        (2.5, "A valid integer is required."),
        ("2.5", "A valid integer is required."),
        (True, "A valid integer is required."),
        ("abc", "A valid integer is required."),
        ("", "A valid integer is required."),
        (None, "This field may not be null."),
        ([1], "A valid integer is required."),
    ],
)
def test_post_a_quantity_that_is_not_a_whole_number_from_1_to_1000_is_400(
    client, shopper, quantity, message
):
    product = ProductFactory(stock=5000)

    response = client.post(
        ITEMS, {"product": product.pk, "quantity": quantity}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"quantity": [message]}
    assert lines_of(shopper) == []


def test_post_without_fields_is_400_naming_both(client):
    response = client.post(ITEMS, {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "variant": ["Give the variant (or a product that has one variant)."],
        "quantity": ["This field is required."],
    }


def test_post_that_takes_a_line_past_1000_units_is_400(client, shopper):
    product = ProductFactory(stock=5000)
    client.post(ITEMS, {"product": product.pk, "quantity": 600}, format="json")

    response = client.post(
        ITEMS, {"product": product.pk, "quantity": 401}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "quantity": [
            "A cart holds at most 1000 of one product; this line would hold 1001."
        ]
    }
    assert lines_of(shopper) == [(product.pk, 600)]


def test_post_of_a_json_list_is_400(client):
    response = client.post(ITEMS, [1, 2], format="json")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["non_field_errors"]


def test_post_of_malformed_json_is_400_parse_error(client):
    response = client.post(ITEMS, "{not json", content_type="application/json")

    assert_problem(response, 400, "parse_error")


def test_post_of_a_form_is_415(client):
    response = client.post(ITEMS, {"product": 1, "quantity": 1})

    assert_problem(response, 415, "unsupported_media_type")


# --- PATCH cart/items/{id}/ -----------------------------------------------------------


def test_patch_sets_the_lines_quantity_and_answers_200_with_the_cart(client, shopper):
    item = CartItemFactory(cart=CartFactory(user=shopper), quantity=1)

    response = client.patch(item_url(item), {"quantity": 4}, format="json")

    assert response.status_code == 200
    assert [(line["id"], line["quantity"]) for line in response.json()["items"]] == [
        (item.pk, 4)
    ]
    assert response.json()["item_count"] == 4
    assert lines_of(shopper) == [(item.variant.product_id, 4)]


def test_patch_above_the_stock_on_hand_is_409(client, shopper):
    item = CartItemFactory(
        cart=CartFactory(user=shopper), product=ProductFactory(stock=3), quantity=1
    )

    response = client.patch(item_url(item), {"quantity": 4}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["shortages"][0]["available"] == 3
    assert lines_of(shopper) == [(item.variant.product_id, 1)]


def test_patch_a_line_of_a_product_no_longer_for_sale_is_400(client, shopper):
    item = CartItemFactory(cart=CartFactory(user=shopper))
    catalog_services.update_product(product=item.product, is_active=False)

    response = client.patch(item_url(item), {"quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"product": ["This product is not for sale."]}


@pytest.mark.parametrize("quantity", [0, -1, 1001, "2.5", 1.5, True, "abc", None])
def test_patch_a_quantity_out_of_bounds_is_400(client, shopper, quantity):
    item = CartItemFactory(cart=CartFactory(user=shopper), quantity=2)

    response = client.patch(item_url(item), {"quantity": quantity}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["quantity"]
    assert lines_of(shopper) == [(item.variant.product_id, 2)]


def test_patch_without_a_quantity_is_400(client, shopper):
    item = CartItemFactory(cart=CartFactory(user=shopper))

    response = client.patch(item_url(item), {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"quantity": ["This field is required."]}


def test_patch_of_another_users_line_is_404_and_changes_nothing(client):
    theirs = CartItemFactory(quantity=1)

    response = client.patch(item_url(theirs), {"quantity": 5}, format="json")

    assert_problem(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.quantity == 1


def test_patch_of_another_users_line_is_404_for_staff_too():
    staff_client = as_user(UserFactory(is_staff=True, is_superuser=True))
    theirs = CartItemFactory(quantity=1)

    response = staff_client.patch(item_url(theirs), {"quantity": 5}, format="json")

    assert_problem(response, 404, "not_found")


def test_patch_of_an_anonymous_carts_line_is_404(client):
    session_line = CartItemFactory(cart=CartFactory(user=None))

    response = client.patch(item_url(session_line), {"quantity": 5}, format="json")

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("item_id", [987654, 2**70])
def test_patch_of_a_line_that_does_not_exist_is_404(client, item_id):
    response = client.patch(item_url(item_id), {"quantity": 1}, format="json")

    assert_problem(response, 404, "not_found")


def test_an_item_id_that_is_not_a_number_is_404(client):
    response = client.patch(f"{ITEMS}abc/", {"quantity": 1}, format="json")

    assert_problem(response, 404, "not_found")


def test_put_on_a_line_is_405(client, shopper):
    item = CartItemFactory(cart=CartFactory(user=shopper))

    response = client.put(item_url(item), {"quantity": 1}, format="json")

    assert_problem(response, 405, "method_not_allowed")


# --- DELETE cart/items/{id}/ ----------------------------------------------------------


def test_delete_item_removes_the_line_and_answers_204(client, shopper):
    cart = CartFactory(user=shopper)
    kept, removed = CartItemFactory(cart=cart), CartItemFactory(cart=cart)

    response = client.delete(item_url(removed))

    assert response.status_code == 204
    assert response.content == b""
    assert lines_of(shopper) == [(kept.variant.product_id, 1)]


def test_delete_of_another_users_line_is_404_and_keeps_it(client):
    theirs = CartItemFactory()

    response = client.delete(item_url(theirs))

    assert_problem(response, 404, "not_found")
    assert CartItem.objects.filter(pk=theirs.pk).exists()


def test_delete_of_a_line_already_removed_is_404(client, shopper):
    item = CartItemFactory(cart=CartFactory(user=shopper))
    client.delete(item_url(item))

    response = client.delete(item_url(item))

    assert_problem(response, 404, "not_found")


# --- Rate limit on cart writes --------------------------------------------------------


def test_cart_writes_past_the_default_120_a_minute_are_429_with_retry_after(
    client, shopper, ratelimit_clock
):
    product = ProductFactory(stock=10)
    statuses = [client.delete(CART).status_code for _ in range(119)]
    statuses.append(
        client.post(
            ITEMS, {"product": product.pk, "quantity": 1}, format="json"
        ).status_code
    )

    refused = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    assert statuses == [204] * 119 + [201]
    assert_problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) == seconds_left(
        f"user:{shopper.pk}", 60, ratelimit_clock.now
    )
    assert lines_of(shopper) == [(product.pk, 1)]


def test_the_cart_write_limit_counts_every_cart_write_per_user_and_not_reads(
    client, shopper, settings, ratelimit_clock
):
    settings.RATELIMIT_CART_WRITE = "3/m"
    item = CartItemFactory(cart=CartFactory(user=shopper), quantity=1)
    writes = [
        client.patch(item_url(item), {"quantity": 2}, format="json").status_code,
        client.post(
            ITEMS, {"product": ProductFactory().pk, "quantity": 1}, format="json"
        ).status_code,
        client.delete(item_url(item)).status_code,
    ]
    reads = [client.get(CART).status_code for _ in range(5)]

    refused = [
        client.delete(CART),
        client.post(ITEMS, {"product": 1, "quantity": 1}, format="json"),
        client.patch(item_url(1), {"quantity": 1}, format="json"),
        client.delete(item_url(1)),
    ]
    someone_else = as_user(UserFactory()).delete(CART)

    assert writes == [200, 201, 204]
    assert reads == [200] * 5
    for response in refused:
        assert_problem(response, 429, "throttled")
        assert int(response["Retry-After"]) >= 1
    assert someone_else.status_code == 204


def test_the_cart_write_limit_lifts_when_its_window_ends(
    client, settings, ratelimit_clock
):
    settings.RATELIMIT_CART_WRITE = "1/m"
    client.delete(CART)
    refused = client.delete(CART)

    ratelimit_clock.advance(int(refused["Retry-After"]))
    response = client.delete(CART)

    assert refused.status_code == 429
    assert response.status_code == 204
