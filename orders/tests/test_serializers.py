from decimal import Decimal

import pytest
from rest_framework import serializers

from catalog.tests.factories import ProductFactory
from orders.api.serializers import OrderSerializer
from orders.models import Order
from orders.tests.factories import PaidOrderFactory, address

pytestmark = pytest.mark.django_db


def test_an_order_is_written_out_as_drfs_fields_write_it():
    gone = ProductFactory(price=Decimal("0.10"))
    kept = ProductFactory(price=Decimal("1234.50"))
    order = PaidOrderFactory(
        lines=[(kept, 3), (gone, 7)],
        shipping_address={**address(), "line2": "", "phone": ""},
    )
    gone.delete()
    order = Order.objects.with_details().get(pk=order.pk)
    serializer = OrderSerializer(order)

    written_out = serializer.data

    assert written_out == serializers.ModelSerializer.to_representation(
        serializer, order
    )
    assert [item["product"] for item in written_out["items"]] == [None, kept.pk]
    assert [step["status"] for step in written_out["status_history"]] == [
        "pending",
        "paid",
    ]
