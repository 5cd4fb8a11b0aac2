from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Product, StockMovement
from catalog.tests.factories import ProductFactory
from orders import services, tasks
from orders.models import Order
from orders.tests.factories import OrderFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db


def placed_minutes_ago(order, minutes):
    """Move the order's placing back in time (the clock the job reads)."""
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )
    order.refresh_from_db()
    return order


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def test_pending_orders_past_the_timeout_expire_and_release_their_stock():
    mug = ProductFactory(sku="MUG", stock=10)
    stale = placed_minutes_ago(OrderFactory(lines=[(mug, 3)]), 121)
    fresh = placed_minutes_ago(OrderFactory(lines=[(mug, 2)]), 119)
    paid = placed_minutes_ago(PaidOrderFactory(lines=[(mug, 1)]), 500)

    expired = services.expire_unpaid_orders()

    assert expired == [stale]
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: "cancelled", fresh.pk: "pending", paid.pk: "paid"}
    assert stock_of(mug) == 7
    movement = StockMovement.objects.get(reason="expiry")
    assert (movement.sku, movement.quantity, movement.reference) == (
        "MUG",
        3,
        stale.number,
    )
    change = stale.history.last()
    assert (change.status, change.by, change.note) == (
        "cancelled",
        None,
        "Not paid within 120 minutes",
    )


def test_the_timeout_comes_from_settings(settings):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 30
    order = placed_minutes_ago(OrderFactory(), 31)

    assert services.expire_unpaid_orders() == [order]


def test_an_order_expires_once():
    mug = ProductFactory(stock=5)
    placed_minutes_ago(OrderFactory(lines=[(mug, 2)]), 200)
    services.expire_unpaid_orders()

    again = services.expire_unpaid_orders()

    assert again == []
    assert stock_of(mug) == 5


def test_a_dry_run_lists_the_due_orders_and_changes_nothing():
    mug = ProductFactory(stock=5)
    older = placed_minutes_ago(OrderFactory(lines=[(mug, 1)]), 300)
    old = placed_minutes_ago(OrderFactory(lines=[(mug, 1)]), 200)

    due = services.expire_unpaid_orders(dry_run=True)

    assert due == [older, old]
    assert set(Order.objects.values_list("status", flat=True)) == {"pending"}
    assert stock_of(mug) == 3


def test_the_celery_task_expires_the_due_orders():
    order = placed_minutes_ago(OrderFactory(), 121)

    result = tasks.expire_unpaid_orders.delay()

    assert result.get() == 1
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_the_command_reports_each_expired_order_and_a_summary(capsys):
    mug = ProductFactory(stock=5)
    order = placed_minutes_ago(OrderFactory(lines=[(mug, 2)]), 121)

    call_command("expire_unpaid_orders")

    out = capsys.readouterr().out
    assert "Looking for pending orders placed more than 120 minutes ago" in out
    # Two units at 19.99, and 5.00 shipping.
    assert f"  expired {order.number} of {order.user.email}, 44.98 USD" in out
    assert out.rstrip().endswith("Expired 1 unpaid orders.")
    assert stock_of(mug) == 5


def test_the_command_dry_run_changes_nothing(capsys):
    order = placed_minutes_ago(OrderFactory(), 121)

    call_command("expire_unpaid_orders", "--dry-run")

    out = capsys.readouterr().out
    assert f"  would expire {order.number}" in out
    assert "Dry run: 1 unpaid orders would expire; nothing changed." in out
    order.refresh_from_db()
    assert order.status == "pending"


def test_the_command_has_help():
    with pytest.raises(SystemExit) as exit_:
        call_command("expire_unpaid_orders", "--help")

    assert exit_.value.code == 0
