"""Business events: one log line each on shopswift.events, after the commit."""

import copy
import json
import logging
import logging.config
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import StaffFactory, UserFactory
from catalog.exceptions import InsufficientStock
from catalog.tests.factories import ProductFactory
from core.log import RequestIDFilter
from orders import services
from orders.exceptions import PaymentDeclined, PriceChanged
from orders.models import Order
from orders.tests.factories import (
    DECLINED_CARD,
    OrderFactory,
    PaidOrderFactory,
    address,
    fill_cart,
    pay,
)

pytestmark = pytest.mark.django_db

# The fields every record has; the events' own are the rest.
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "request_id"}


@pytest.fixture
def events(caplog):
    """Read the event records logged so far, stamped with the request id."""
    caplog.handler.addFilter(RequestIDFilter())
    caplog.set_level(logging.INFO, logger="shopswift.events")
    return lambda: [r for r in caplog.records if r.name == "shopswift.events"]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the on_commit callbacks of the work in the block, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def fields(record):
    return {key: value for key, value in vars(record).items() if key not in STANDARD}


@pytest.fixture
def ada():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def mug():
    return ProductFactory(sku="MUG-1", price=Decimal("12.50"), stock=10)


def test_placing_an_order_logs_its_number_customer_total_and_items(
    events, committed, ada, mug
):
    tea = ProductFactory(sku="TEA-1", price=Decimal("4.00"))
    fill_cart(ada, (mug, 2), (tea, 1))

    with committed():
        order = services.place_order(user=ada, shipping_address=address()).order

    [record] = events()
    assert record.levelname == "INFO"
    assert record.getMessage() == f"Order {order.number} placed: 3 items, 34.00 USD"
    assert fields(record) == {
        "event": "order_placed",
        "order": order.number,
        "user_id": ada.pk,
        "total": "34.00",
        "currency": "USD",
        "items": 3,
        "lines": 2,
    }


def test_a_checkout_short_of_stock_logs_every_short_product_and_no_order(
    events, committed, ada, mug
):
    tea = ProductFactory(sku="TEA-1", stock=1)
    fill_cart(ada, (mug, 11), (tea, 2))

    with committed(), pytest.raises(InsufficientStock):
        services.place_order(user=ada, shipping_address=address())

    [record] = events()
    assert record.getMessage() == "Checkout refused, too little stock: MUG-1, TEA-1"
    assert fields(record) == {
        "event": "checkout_conflict",
        "user_id": ada.pk,
        "reason": "insufficient_stock",
        "products": [
            {"product_id": mug.pk, "sku": "MUG-1", "requested": 11, "available": 10},
            {"product_id": tea.pk, "sku": "TEA-1", "requested": 2, "available": 1},
        ],
    }


def test_a_checkout_whose_total_changed_logs_both_totals(events, committed, ada, mug):
    fill_cart(ada, (mug, 1))

    with committed(), pytest.raises(PriceChanged):
        services.place_order(
            user=ada, shipping_address=address(), expected_total=Decimal("10.00")
        )

    [record] = events()
    assert fields(record) == {
        "event": "checkout_conflict",
        "user_id": ada.pk,
        "reason": "price_changed",
        "expected_total": "10.00",
        "total": "17.50",
    }


def test_a_card_payment_logs_the_order_paid(events, committed, ada, mug):
    order = OrderFactory(user=ada, lines=[(mug, 4)])

    with committed():
        pay(order)

    [record] = events()
    assert record.getMessage() == f"Order {order.number} paid: 50.00 USD"
    assert fields(record) == {
        "event": "order_paid",
        "order": order.number,
        "user_id": ada.pk,
        "previous_status": "pending",
        "status": "paid",
        "by_user_id": ada.pk,
        "total": "50.00",
        "currency": "USD",
        "gateway": "test-card",
    }


def test_a_declined_payment_logs_the_attempt_and_no_payment(
    events, committed, ada, mug
):
    order = OrderFactory(user=ada, lines=[(mug, 1)])

    with committed(), pytest.raises(PaymentDeclined):
        pay(order, DECLINED_CARD)

    [declined] = events()
    assert fields(declined) == {
        "event": "payment_declined",
        "order": order.number,
        "user_id": ada.pk,
        "amount": "17.50",
        "currency": "USD",
        "gateway": "test-card",
        "outcome": "declined",
    }
    assert declined.getMessage().startswith(
        f"Payment of order {order.number} declined: "
    )


def test_staff_marking_paid_and_shipping_log_each_move(events, committed, ada, mug):
    staff = StaffFactory()
    order = OrderFactory(user=ada, lines=[(mug, 1)])

    with committed():
        services.change_order_status(order=order, status="paid", user=staff)
        services.change_order_status(
            order=order, status="shipped", user=staff, note="DHL 123"
        )

    paid, shipped = events()
    assert (paid.event, paid.gateway, paid.by_user_id) == (
        "order_paid",
        "manual",
        staff.pk,
    )
    assert shipped.getMessage() == f"Order {order.number} paid → shipped"
    assert fields(shipped) == {
        "event": "order_status_changed",
        "order": order.number,
        "user_id": ada.pk,
        "previous_status": "paid",
        "status": "shipped",
        "by_user_id": staff.pk,
        "note": "DHL 123",
    }


def test_cancellations_log_who_cancelled_and_why(events, committed, ada, mug):
    staff = StaffFactory()
    by_customer = OrderFactory(user=ada, lines=[(mug, 1)])
    by_staff = PaidOrderFactory(user=ada, lines=[(mug, 1)])
    expired = OrderFactory(user=ada, lines=[(mug, 1)])
    Order.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    with committed():
        services.cancel_order(order=by_customer, user=ada, note="Ordered twice")
        services.cancel_order(order=by_staff, user=staff)
        services.expire_unpaid_orders()

    cancelled = events()
    assert [
        (record.order, record.cancelled_by, record.by_user_id, record.reason)
        for record in cancelled
    ] == [
        (by_customer.number, "customer", ada.pk, "Ordered twice"),
        (by_staff.number, "staff", staff.pk, ""),
        (expired.number, "system", None, "Not paid within 120 minutes"),
    ]
    assert cancelled[0].getMessage() == (
        f"Order {by_customer.number} cancelled by the customer: Ordered twice"
    )
    assert (cancelled[1].previous_status, cancelled[1].status) == (
        "paid",
        "cancelled",
    )


def test_events_wait_for_the_commit(events, ada, mug):
    fill_cart(ada, (mug, 1))

    # The test's transaction never commits: nothing was placed for real.
    services.place_order(user=ada, shipping_address=address())

    assert events() == []


def test_production_event_lines_are_json_with_their_fields(
    events, committed, settings, ada, mug
):
    fill_cart(ada, (mug, 1))
    with committed():
        order = services.place_order(user=ada, shipping_address=address()).order
    config = copy.deepcopy(settings.LOGGING)
    formatter = logging.config.DictConfigurator(config).configure_formatter(
        config["formatters"]["json"]
    )

    line = json.loads(formatter.format(events()[0]))

    del line["time"]
    assert line == {
        "level": "INFO",
        "logger": "shopswift.events",
        "message": f"Order {order.number} placed: 1 item, 17.50 USD",
        "request_id": "-",
        "event": "order_placed",
        "order": order.number,
        "user_id": ada.pk,
        "total": "17.50",
        "currency": "USD",
        "items": 1,
        "lines": 1,
    }
