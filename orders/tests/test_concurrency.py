"""Racing checkouts, retries, cancellations and payments on the real PostgreSQL.

Each thread has its own database connection, so these tests commit
(transaction=True) and the threads really wait on each other's locks.
"""

import threading
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.tests.factories import StaffFactory, UserFactory
from catalog.exceptions import InsufficientStock
from catalog.models import Product, StockMovement
from catalog.tests.factories import ProductFactory, SizedProductFactory, variant_row
from core.testing import race
from orders import services
from orders.exceptions import InvalidTransition, PaymentDeclined
from orders.models import Order
from orders.payments import TestCardGateway
from orders.services import PlacedOrder
from orders.tests.factories import (
    DECLINED_CARD,
    OrderFactory,
    address,
    fill_cart,
    pay,
)

pytestmark = pytest.mark.django_db(transaction=True)


def checkout_for(user, key=""):
    return lambda: services.place_order(
        user=user, shipping_address=address(), idempotency_key=key
    )


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def test_twenty_buyers_of_five_units_make_exactly_five_orders():
    product = ProductFactory(sku="LAST", stock=5)
    buyers = UserFactory.create_batch(20)
    for buyer in buyers:
        fill_cart(buyer, (product, 1))

    results = race([checkout_for(buyer) for buyer in buyers])

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"PlacedOrder": 5, "InsufficientStock": 15}
    assert stock_of(product) == 0
    assert Order.objects.count() == 5
    # Every order has its sale movement, and every sale movement its order.
    sales = StockMovement.objects.filter(reason="sale")
    assert sorted(sales.values_list("reference", flat=True)) == sorted(
        Order.objects.values_list("number", flat=True)
    )
    assert set(sales.values_list("quantity", flat=True)) == {-1}
    assert min(sales.values_list("stock_after", flat=True)) == 0
    assert StockMovement.objects.aggregate(total=Sum("quantity"))["total"] == 0
    call_command("reconcile_stock")


def test_buyers_of_shared_products_never_oversell_nor_deadlock():
    mug, tea = ProductFactory(stock=6), ProductFactory(stock=6)
    buyers = UserFactory.create_batch(8)
    for index, buyer in enumerate(buyers):
        # Half add the mug first, half the tea: the lock order stays fixed.
        lines = [(mug, 2), (tea, 1)] if index % 2 else [(tea, 1), (mug, 2)]
        fill_cart(buyer, *lines)

    results = race([checkout_for(buyer) for buyer in buyers])

    placed = [result for result in results if isinstance(result, PlacedOrder)]
    refused = [result for result in results if isinstance(result, InsufficientStock)]
    assert (len(placed), len(refused)) == (3, 5)
    assert (stock_of(mug), stock_of(tea)) == (0, 3)
    call_command("reconcile_stock")


def test_two_racing_retries_with_one_key_make_one_order():
    user = UserFactory()
    product = ProductFactory(stock=5)
    fill_cart(user, (product, 2))

    results = race([checkout_for(user, key="same-key")] * 2)

    assert sorted(placed.created for placed in results) == [False, True]
    assert results[0].order == results[1].order
    assert Order.objects.count() == 1
    assert stock_of(product) == 3


def test_two_racing_cancellations_restore_the_stock_once():
    product = ProductFactory(stock=5)
    order = OrderFactory(lines=[(product, 3)])
    staff = StaffFactory()

    results = race(
        [
            lambda: services.cancel_order(order=order, user=order.user),
            lambda: services.cancel_order(order=order, user=staff),
        ]
    )

    assert sorted(type(result).__name__ for result in results) == [
        "InvalidTransition",
        "Order",
    ]
    assert stock_of(product) == 5
    assert StockMovement.objects.filter(reason="cancellation").count() == 1
    call_command("reconcile_stock")


def test_a_payment_racing_a_cancellation_leaves_one_consistent_outcome():
    product = ProductFactory(stock=5)
    order = OrderFactory(lines=[(product, 2)])

    results = race(
        [
            lambda: pay(order),
            lambda: services.cancel_order(order=order, user=order.user),
        ]
    )

    order.refresh_from_db()
    assert sum(isinstance(result, InvalidTransition) for result in results) == 1
    if order.status == Order.Status.PAID:
        assert stock_of(product) == 3
        assert order.payments.get().outcome == "approved"
    else:
        assert order.status == Order.Status.CANCELLED
        assert stock_of(product) == 5
        assert not order.payments.exists()


def test_two_racing_payments_charge_once():
    order = OrderFactory()

    results = race([lambda: pay(order)] * 2)

    assert sorted(type(result).__name__ for result in results) == [
        "InvalidTransition",
        "Order",
    ]
    assert list(order.payments.values_list("outcome", flat=True)) == ["approved"]


# --- A charge held open: what may happen while the gateway is called -----------


class HeldGateway(TestCardGateway):
    """The test-card gateway, holding each charge open until the test lets it
    answer (as a real gateway's network call takes its time)."""

    name = "held"
    charging = threading.Event()
    answer = threading.Event()
    charged = []

    def charge(self, **kwargs):
        self.charged.append(kwargs["reference"])
        self.charging.set()
        # Bounded, so that a payment holding a lock that the test waits for
        # fails the test instead of hanging it.
        if not self.answer.wait(timeout=10):
            raise TimeoutError("The test never let the gateway answer.")
        return super().charge(**kwargs)


@pytest.fixture
def held_gateway(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.HeldGateway"
    HeldGateway.charging = threading.Event()
    HeldGateway.answer = threading.Event()
    HeldGateway.charged = []
    return HeldGateway


def while_charging(gateway, act):
    """Do `act` while the gateway holds a charge open, then let it answer."""

    def run():
        assert gateway.charging.wait(timeout=10), "no charge began"
        try:
            return act()
        finally:
            gateway.answer.set()

    return run


def test_the_gateway_is_called_with_no_lock_on_the_order(held_gateway):
    order = OrderFactory()

    def lock_the_order():
        with transaction.atomic():
            locked = Order.objects.select_for_update(nowait=True).get(pk=order.pk)
        return locked.status

    paid, status_while_charging = race(
        [lambda: pay(order), while_charging(held_gateway, lock_the_order)]
    )

    assert status_while_charging == "pending"
    assert paid.status == "paid"


def test_a_second_payment_while_the_first_is_charged_is_refused(held_gateway):
    order = OrderFactory()

    paid, refusal = race(
        [lambda: pay(order), while_charging(held_gateway, lambda: pay(order))]
    )

    assert paid.status == "paid"
    assert isinstance(refusal, InvalidTransition)
    assert refusal.extra == {"order_status": "pending"}
    assert held_gateway.charged == [order.number]
    assert list(order.payments.values_list("outcome", flat=True)) == ["approved"]


@pytest.mark.parametrize("by_staff", [False, True], ids=["customer", "staff"])
def test_a_cancellation_while_the_payment_is_charged_is_refused(held_gateway, by_staff):
    product = ProductFactory(stock=5)
    order = OrderFactory(lines=[(product, 2)])
    user = StaffFactory() if by_staff else order.user

    paid, refusal = race(
        [
            lambda: pay(order),
            while_charging(
                held_gateway, lambda: services.cancel_order(order=order, user=user)
            ),
        ]
    )

    assert paid.status == "paid"
    assert isinstance(refusal, InvalidTransition)
    assert stock_of(product) == 3
    assert list(order.payments.values_list("outcome", flat=True)) == ["approved"]
    assert [change.status for change in order.history.all()] == ["pending", "paid"]


def test_a_declined_charge_leaves_the_order_to_be_cancelled_after(held_gateway):
    product = ProductFactory(stock=5)
    order = OrderFactory(lines=[(product, 2)])

    declined, refusal = race(
        [
            lambda: pay(order, card_number=DECLINED_CARD),
            while_charging(
                held_gateway,
                lambda: services.cancel_order(order=order, user=order.user),
            ),
        ]
    )
    cancelled = services.cancel_order(order=order, user=order.user)

    assert isinstance(declined, PaymentDeclined)
    assert isinstance(refusal, InvalidTransition)
    assert cancelled.status == "cancelled"
    assert stock_of(product) == 5
    assert list(order.payments.values_list("outcome", flat=True)) == ["declined"]


def test_the_expiry_while_the_payment_is_charged_passes_the_order_by(held_gateway):
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    paid, expired = race(
        [
            lambda: pay(order),
            while_charging(held_gateway, services.expire_unpaid_orders),
        ]
    )

    assert expired == []
    assert paid.status == "paid"
    assert services.expire_unpaid_orders() == []


def test_the_last_unit_of_a_variant_sells_once_while_its_siblings_keep_selling():
    product = SizedProductFactory(
        sku="RACE",
        variants=[
            variant_row("S", price="5.00", stock=1),
            variant_row("M", price="5.00", stock=20),
        ],
    )
    small = product.variants.get(sku="RACE-S")
    medium = product.variants.get(sku="RACE-M")
    small_buyers = UserFactory.create_batch(4)
    medium_buyers = UserFactory.create_batch(6)
    for buyer in small_buyers:
        fill_cart(buyer, (small, 1))
    for buyer in medium_buyers:
        fill_cart(buyer, (medium, 2))

    results = race([checkout_for(buyer) for buyer in small_buyers + medium_buyers])

    small_results, medium_results = results[:4], results[4:]
    assert Counter(type(r).__name__ for r in small_results) == {
        "PlacedOrder": 1,
        "InsufficientStock": 3,
    }
    assert all(isinstance(r, PlacedOrder) for r in medium_results)
    small.refresh_from_db()
    medium.refresh_from_db()
    assert (small.stock, medium.stock, stock_of(product)) == (0, 8, 8)
    out = StringIO()
    call_command("reconcile_stock", stdout=out)
    assert "0 drifted" in out.getvalue()
