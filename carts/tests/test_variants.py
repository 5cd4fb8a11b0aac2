"""Cart lines per variant: the API, the services and the hand-written answer."""

from decimal import Decimal

import pytest
from rest_framework.test import APIRequestFactory

from accounts.tests.factories import UserFactory
from carts import queries, services
from carts.api.serializers import CartSerializer
from carts.models import Cart, CartItem
from carts.tests.test_api import as_user
from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock
from catalog.tests.factories import CategoryFactory, ProductFactory, SizedProductFactory
from core.testing import assert_answer_matches, assert_problem

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/cart/items/"


def tee():
    """A tee in Colour (Red, Blue) and Size (S, M), in that option order."""
    return catalog_services.create_product(
        sku="TEE",
        name="Tee",
        category=CategoryFactory(),
        option_types=[
            {"name": "Colour", "values": ["Red", "Blue"]},
            {"name": "Size", "values": ["S", "M"]},
        ],
        variants=[
            {
                "sku": "TEE-RED-S",
                "options": {"Colour": "Red", "Size": "S"},
                "price": Decimal("15.00"),
                "stock": 2,
            },
            {
                "sku": "TEE-RED-M",
                "options": {"Colour": "Red", "Size": "M"},
                "price": Decimal("16.00"),
                "stock": 1,
            },
        ],
    )


@pytest.fixture
def shopper():
    return UserFactory()


@pytest.fixture
def client(shopper):
    return as_user(shopper)


def test_post_a_variant_adds_its_line_priced_at_the_variant(client, shopper):
    product = tee()
    medium = product.variants.get(sku="TEE-RED-M")

    response = client.post(ITEMS, {"variant": medium.pk, "quantity": 1}, format="json")

    assert response.status_code == 201
    [line] = response.json()["items"]
    assert line["variant"] == {
        "id": medium.pk,
        "sku": "TEE-RED-M",
        "options": {"Colour": "Red", "Size": "M"},
    }
    assert (line["product"]["id"], line["product"]["price"]) == (product.pk, "15.00")
    assert (line["unit_price"], line["line_total"]) == ("16.00", "16.00")


def test_two_variants_of_one_product_are_two_lines(client, shopper):
    product = tee()
    for variant in product.variants.all():
        client.post(ITEMS, {"variant": variant.pk, "quantity": 1}, format="json")

    lines = CartItem.objects.filter(cart__user=shopper).order_by("variant__sku")

    assert [line.variant.sku for line in lines] == ["TEE-RED-M", "TEE-RED-S"]


def test_post_a_product_with_several_variants_is_400_naming_variant(client):
    product = tee()

    response = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"variant": [services.CHOOSE_VARIANT]}


def test_post_a_product_with_one_active_variant_takes_that_variant(client, shopper):
    product = tee()
    catalog_services.update_variant(
        variant=product.variants.get(sku="TEE-RED-S"), is_active=False
    )

    response = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    assert response.status_code == 201
    assert CartItem.objects.get(cart__user=shopper).variant.sku == "TEE-RED-M"


@pytest.mark.parametrize("variant", [987654, "abc", None])
def test_post_an_unknown_variant_is_400_naming_variant(client, variant):
    response = client.post(ITEMS, {"variant": variant, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["variant"]


def test_post_an_inactive_variant_is_400_naming_variant(client):
    product = tee()
    small = product.variants.get(sku="TEE-RED-S")
    catalog_services.update_variant(variant=small, is_active=False)

    response = client.post(ITEMS, {"variant": small.pk, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"variant": [services.VARIANT_NOT_FOR_SALE]}


def test_post_a_variant_of_another_product_is_400(client):
    product, other = tee(), ProductFactory()
    small = product.variants.get(sku="TEE-RED-S")

    response = client.post(
        ITEMS,
        {"product": other.pk, "variant": small.pk, "quantity": 1},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["variant"]


def test_a_line_is_checked_against_its_variants_stock(client):
    medium = tee().variants.get(sku="TEE-RED-M")

    response = client.post(ITEMS, {"variant": medium.pk, "quantity": 2}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["shortages"][0]["variant_id"] == medium.pk
    assert body["shortages"][0]["available"] == 1


def test_warnings_are_per_variant(shopper):
    product = tee()
    small = product.variants.get(sku="TEE-RED-S")
    medium = product.variants.get(sku="TEE-RED-M")
    cart = services.get_user_cart(user=shopper)
    small_line = services.add_item(cart=cart, variant=small, quantity=2)
    medium_line = services.add_item(cart=cart, variant=medium, quantity=1)
    catalog_services.take_stock(lines=[(small.pk, 1)])
    catalog_services.update_variant(variant=medium, is_active=False)

    answer = queries.user_cart_representation(shopper)

    assert answer["warnings"] == [
        {"item": small_line.pk, "code": "insufficient_stock", "available": 1},
        {"item": medium_line.pk, "code": "inactive", "available": 0},
    ]


def test_the_answer_with_variants_is_cart_serializers(shopper):
    product = tee()
    cart = services.get_user_cart(user=shopper)
    for variant in product.variants.all():
        services.add_item(cart=cart, variant=variant, quantity=1)
    services.add_item(cart=cart, variant=ProductFactory().variants.get(), quantity=1)
    request = APIRequestFactory().get("/api/v1/cart/")

    answer = queries.user_cart_representation(shopper, request=request)

    expected = CartSerializer(
        Cart.objects.with_lines().get(pk=cart.pk), context={"request": request}
    ).data
    assert_answer_matches(answer, expected, "Cart")


def test_merging_adds_up_lines_of_the_same_variant_only(shopper):
    product = SizedProductFactory()
    small = product.variants.get(sku__endswith="-S")
    large = product.variants.get(sku__endswith="-L")
    target = services.get_user_cart(user=shopper)
    services.add_item(cart=target, variant=small, quantity=1)
    source = services.create_session_cart()
    services.add_item(cart=source, variant=small, quantity=1)
    services.add_item(cart=source, variant=large, quantity=2)

    services.merge_carts(source=source, target=target)

    assert sorted(target.items.values_list("variant__sku", "quantity")) == [
        (large.sku, 2),
        (small.sku, 2),
    ]


def test_add_item_refuses_more_than_the_variants_stock(shopper):
    medium = tee().variants.get(sku="TEE-RED-M")
    cart = services.get_user_cart(user=shopper)

    with pytest.raises(InsufficientStock):
        services.add_item(cart=cart, variant=medium, quantity=2)
