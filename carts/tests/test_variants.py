"""Cart lines per variant: the API, the services and the hand-written answer."""

import pytest
from rest_framework.test import APIRequestFactory

from accounts.tests.factories import UserFactory
from carts import queries, services
from carts.api.serializers import CartSerializer
from carts.models import Cart, CartItem
from carts.tests.test_api import as_user
from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock
from catalog.tests.factories import ProductFactory, SizedProductFactory, TeeFactory
from core.testing import assert_answer_matches, assert_problem

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/cart/items/"


@pytest.fixture
def shopper():
    return UserFactory()


@pytest.fixture
def client(shopper):
    return as_user(shopper)


def test_post_a_variant_adds_its_line_priced_at_the_variant(client, shopper):
    product = TeeFactory()
    blue = product.variants.get(sku="TEE-BLUE-M")

    response = client.post(ITEMS, {"variant": blue.pk, "quantity": 1}, format="json")

    assert response.status_code == 201
    [line] = response.json()["items"]
    assert line["variant"] == {
        "id": blue.pk,
        "sku": "TEE-BLUE-M",
        "options": {"Colour": "Blue", "Size": "M"},
    }
    assert (line["product"]["id"], line["product"]["price"]) == (product.pk, "15.00")
    assert (line["unit_price"], line["line_total"]) == ("17.00", "17.00")


def test_two_variants_of_one_product_are_two_lines(client, shopper):
    product = TeeFactory()
    for sku in ("TEE-RED-S", "TEE-BLUE-M"):
        variant = product.variants.get(sku=sku)
        client.post(ITEMS, {"variant": variant.pk, "quantity": 1}, format="json")

    lines = CartItem.objects.filter(cart__user=shopper).order_by("variant__sku")

    assert [line.variant.sku for line in lines] == ["TEE-BLUE-M", "TEE-RED-S"]


def test_post_a_product_with_several_variants_is_400_naming_variant(client):
    product = TeeFactory()

    response = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"variant": [services.CHOOSE_VARIANT]}


def test_post_a_product_with_one_active_variant_takes_that_variant(client, shopper):
    product = TeeFactory()
    for sku in ("TEE-RED-S", "TEE-RED-M"):
        catalog_services.update_variant(
            variant=product.variants.get(sku=sku), is_active=False
        )

    response = client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    assert response.status_code == 201
    assert CartItem.objects.get(cart__user=shopper).variant.sku == "TEE-BLUE-M"


@pytest.mark.parametrize("variant", [987654, "abc", None])
def test_post_an_unknown_variant_is_400_naming_variant(client, variant):
    response = client.post(ITEMS, {"variant": variant, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["variant"]


def test_post_an_inactive_variant_is_400_naming_variant(client):
    product = TeeFactory()
    small = product.variants.get(sku="TEE-RED-S")
    catalog_services.update_variant(variant=small, is_active=False)

    response = client.post(ITEMS, {"variant": small.pk, "quantity": 1}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"variant": [services.VARIANT_NOT_FOR_SALE]}


def test_post_a_variant_of_another_product_is_400(client):
    product, other = TeeFactory(), ProductFactory()
    small = product.variants.get(sku="TEE-RED-S")

    response = client.post(
        ITEMS,
        {"product": other.pk, "variant": small.pk, "quantity": 1},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["variant"]


def test_a_line_is_checked_against_its_variants_stock(client):
    blue = TeeFactory().variants.get(sku="TEE-BLUE-M")

    response = client.post(ITEMS, {"variant": blue.pk, "quantity": 4}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["shortages"][0]["variant_id"] == blue.pk
    assert body["shortages"][0]["available"] == 3


def test_warnings_are_per_variant(shopper):
    product = TeeFactory()
    small = product.variants.get(sku="TEE-RED-S")
    blue = product.variants.get(sku="TEE-BLUE-M")
    cart = services.get_user_cart(user=shopper)
    small_line = services.add_item(cart=cart, variant=small, quantity=2)
    blue_line = services.add_item(cart=cart, variant=blue, quantity=1)
    catalog_services.take_stock(lines=[(small.pk, 1)])
    catalog_services.update_variant(variant=blue, is_active=False)

    answer = queries.user_cart_representation(shopper)

    assert answer["warnings"] == [
        {"item": small_line.pk, "code": "insufficient_stock", "available": 1},
        {"item": blue_line.pk, "code": "inactive", "available": 0},
    ]


def test_the_answer_with_variants_is_cart_serializers(shopper):
    product = TeeFactory()
    cart = services.get_user_cart(user=shopper)
    for variant in product.variants.filter(stock__gt=0):
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
    medium = TeeFactory().variants.get(sku="TEE-RED-M")  # none in stock
    cart = services.get_user_cart(user=shopper)

    with pytest.raises(InsufficientStock):
        services.add_item(cart=cart, variant=medium, quantity=1)
