"""Orders of variants: the snapshot, and stock returned to the right variant."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.exceptions import InsufficientStock
from catalog.models import ProductVariant, StockMovement
from catalog.tests.factories import ProductFactory
from core.testing import assert_answer_matches
from orders import services
from orders.api.serializers import OrderSerializer
from orders.models import Order
from orders.queries import order_representation
from orders.tests.factories import OrderFactory, address, fill_cart, red_tee

pytestmark = pytest.mark.django_db


def stock_of(variant):
    return ProductVariant.objects.get(pk=variant.pk).stock


@pytest.fixture
def variants():
    product = red_tee()
    return (
        product.variants.get(sku="TEE-RED-S"),
        product.variants.get(sku="TEE-RED-M"),
    )


def test_an_order_line_snapshots_the_variants_sku_price_and_options(variants):
    small, medium = variants

    order = OrderFactory(lines=[(medium, 1), (small, 2)])

    assert list(
        order.items.order_by("variant__sku").values_list(
            "variant", "sku", "name", "options", "unit_price", "quantity"
        )
    ) == [
        (medium.pk, "TEE-RED-M", "Tee", "Colour: Red, Size: M", Decimal("16.00"), 1),
        (small.pk, "TEE-RED-S", "Tee", "Colour: Red, Size: S", Decimal("15.00"), 2),
    ]
    assert order.subtotal == Decimal("46.00")
    assert (stock_of(small), stock_of(medium)) == (0, 0)


def test_a_default_variants_line_has_no_options():
    mug = ProductFactory(sku="MUG")

    order = OrderFactory(lines=[(mug, 1)])

    item = order.items.get()
    assert (item.variant, item.sku, item.options) == (mug.variants.get(), "MUG", "")


def test_the_snapshot_outlives_the_variant(variants):
    small, _ = variants
    order = OrderFactory(lines=[(small, 1)])

    small.delete()

    item = order.items.get()
    assert (item.variant, item.sku, item.options) == (
        None,
        "TEE-RED-S",
        "Colour: Red, Size: S",
    )


def test_cancelling_returns_the_stock_to_each_variant(variants):
    small, medium = variants
    order = OrderFactory(lines=[(small, 1), (medium, 1)])

    services.cancel_order(order=order, user=order.user)

    assert (stock_of(small), stock_of(medium)) == (2, 1)
    assert sorted(
        StockMovement.objects.filter(reason="cancellation").values_list(
            "variant", "quantity"
        )
    ) == sorted([(small.pk, 1), (medium.pk, 1)])


def test_expiry_returns_the_stock_to_the_variant_sold(variants):
    small, medium = variants
    order = OrderFactory(lines=[(small, 2)])
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    assert services.expire_unpaid_orders() == [order]

    assert (stock_of(small), stock_of(medium)) == (2, 1)
    movement = StockMovement.objects.get(reason="expiry")
    assert (movement.variant_id, movement.sku, movement.quantity) == (
        small.pk,
        "TEE-RED-S",
        2,
    )


def test_a_checkout_short_on_one_variant_names_that_line(variants):
    small, medium = variants
    user = UserFactory()
    cart = fill_cart(user, (small, 1), (medium, 2))

    with pytest.raises(InsufficientStock) as refusal:
        services.place_order(user=user, shipping_address=address())

    [shortage] = refusal.value.extra["shortages"]
    line = cart.items.get(variant=medium)
    assert (shortage["variant_id"], shortage["item"], shortage["available"]) == (
        medium.pk,
        line.pk,
        1,
    )
    assert (stock_of(small), stock_of(medium)) == (2, 1)


def test_the_answer_of_an_order_of_variants_is_order_serializers(variants):
    small, medium = variants
    order = OrderFactory(lines=[(small, 1), (medium, 1), (ProductFactory(), 1)])
    order = Order.objects.with_details().get(pk=order.pk)

    answer = order_representation(order)

    assert_answer_matches(answer, OrderSerializer(order).data, "Order")
    assert [(item["variant"], item["options"]) for item in answer["items"]] == [
        (small.pk, "Colour: Red, Size: S"),
        (medium.pk, "Colour: Red, Size: M"),
        (order.items.all()[2].variant_id, ""),
    ]
