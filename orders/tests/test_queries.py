from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from core.testing import assert_answer_matches
from orders import services
from orders.api.serializers import OrderSerializer
from orders.models import Order
from orders.queries import order_representation
from orders.tests.factories import (
    OrderFactory,
    PaidOrderFactory,
    address,
    fill_cart,
)
from pricing.tests.factories import method_data, shipping_zone

pytestmark = pytest.mark.django_db


def read(order):
    return Order.objects.with_details().get(pk=order.pk)


def test_a_paid_orders_answer_is_order_serializers_with_items_and_history():
    gone = ProductFactory(price=Decimal("0.10"))
    kept = ProductFactory(price=Decimal("1234.50"))
    order = PaidOrderFactory(
        lines=[(kept, 3), (gone, 7)],
        shipping_address={**address(), "line2": "", "phone": ""},
    )
    gone.delete()
    order = read(order)

    answer = order_representation(order)

    assert_answer_matches(answer, OrderSerializer(order).data, "Order")
    assert [item["product"] for item in answer["items"]] == [None, kept.pk]
    assert [step["status"] for step in answer["status_history"]] == [
        "pending",
        "paid",
    ]


def test_a_cancelled_orders_answer_is_order_serializers():
    order = OrderFactory(note="Leave it with the porter.")
    services.cancel_order(order=order, user=order.user)
    order = read(order)

    answer = order_representation(order)

    assert_answer_matches(answer, OrderSerializer(order).data, "Order")
    assert [step["status"] for step in answer["status_history"]] == [
        "pending",
        "cancelled",
    ]


def test_a_checkouts_answer_from_the_rows_it_wrote_is_order_serializers():
    customer = UserFactory()
    fill_cart(customer, (ProductFactory(), 2), (ProductFactory(), 1))
    client = APIClient()
    client.force_authenticate(customer)

    response = client.post(
        "/api/v1/orders/", {"shipping_address": address()}, format="json"
    )

    answer = response.json()
    order = read(Order.objects.get(pk=answer["id"]))
    assert_answer_matches(answer, OrderSerializer(order).data, "Order")
    assert len(answer["items"]) == 2


def test_an_order_shipped_by_a_method_answers_as_order_serializer():
    shipping_zone(
        "UK",
        ["GB"],
        [method_data("royal-mail", name="Royal Mail", price=Decimal("3.50"))],
    )
    customer = UserFactory()
    fill_cart(customer, (ProductFactory(), 1))
    client = APIClient()
    client.force_authenticate(customer)

    answer = client.post(
        "/api/v1/orders/",
        {"shipping_address": address(), "shipping_method": "royal-mail"},
        format="json",
    ).json()

    order = read(Order.objects.get(pk=answer["id"]))
    assert_answer_matches(answer, OrderSerializer(order).data, "Order")
    assert answer["shipping_method"] == {"code": "royal-mail", "name": "Royal Mail"}


def test_an_address_field_missing_from_a_stored_order_is_blank_in_both_answers():
    order = OrderFactory()
    stored = address()
    del stored["phone"]
    Order.objects.filter(pk=order.pk).update(shipping_address=stored)
    order = read(order)

    answer = order_representation(order)

    assert_answer_matches(answer, OrderSerializer(order).data, "Order")
    assert answer["shipping_address"]["phone"] == ""
