"""A shipping method's weight limit: offered, priced and accepted only for
orders no heavier, from the variants' weights."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog import services as catalog_services
from catalog.tests.factories import ProductFactory, variant_of
from orders import services as order_services
from orders.tests.conftest import client_for
from orders.tests.factories import address, fill_cart
from pricing.tests.factories import method_data, shipping_zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def uk_methods():
    """A letter (2.00, up to 2 kg) and a parcel (9.00, any weight) to the UK."""
    shipping_zone(
        "UK",
        ["GB"],
        [
            method_data("letter", price=Decimal("2.00"), max_weight=2000),
            method_data("parcel", price=Decimal("9.00")),
        ],
    )


def kettle(grams):
    """A product whose one variant weighs `grams`."""
    product = ProductFactory(price=Decimal("20.00"), stock=10)
    catalog_services.update_variant(variant=variant_of(product), weight=grams)
    return product


def test_a_light_cart_is_offered_the_letter_and_a_heavy_one_not(
    customer, customer_client, uk_methods
):
    fill_cart(customer, (kettle(700), 2))  # 1.4 kg
    light = customer_client.put(
        "/api/v1/cart/shipping/", {"country": "GB", "method": "letter"}, format="json"
    )
    assert light.status_code == 200
    assert light.json()["shipping_cost"] == "2.00"

    fill_cart(customer, (kettle(700), 1))  # 2.1 kg in all
    heavy = customer_client.put(
        "/api/v1/cart/shipping/", {"country": "GB", "method": "letter"}, format="json"
    )

    assert heavy.status_code == 400
    assert "takes orders of at most 2000 g" in heavy.json()["errors"]["method"][0]
    # The cart prices by the cheapest method that takes it now.
    cart = client_for(customer).get("/api/v1/cart/").json()
    assert (cart["shipping_method"], cart["shipping_cost"]) == (None, "9.00")


def test_checkout_refuses_a_method_too_small_for_the_order(customer, uk_methods):
    fill_cart(customer, (kettle(2500), 1))

    with pytest.raises(ValidationError) as refusal:
        order_services.place_order(
            user=customer, shipping_address=address(), shipping_method="letter"
        )

    assert "takes orders of at most 2000 g; this one weighs 2500 g" in str(
        refusal.value
    )
    order = order_services.place_order(
        user=customer, shipping_address=address(), shipping_method="parcel"
    ).order
    assert order.shipping_cost == Decimal("9.00")


def test_units_of_unknown_weight_count_as_nothing(customer, uk_methods):
    fill_cart(customer, (ProductFactory(price=Decimal("20.00"), stock=10), 5))

    order = order_services.place_order(
        user=customer, shipping_address=address(), shipping_method="letter"
    ).order

    assert order.shipping_method_code == "letter"
