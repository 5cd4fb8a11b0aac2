from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction

from accounts.tests.factories import StaffFactory, UserFactory
from orders.models import Order, OrderItem, Payment, generate_order_number
from orders.tests.factories import OrderFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db


def violates(update, model=Order, **filters):
    """Whether the database refuses `update` on the rows matching `filters`."""
    try:
        with transaction.atomic():
            model.objects.filter(**filters).update(**update)
    except IntegrityError:
        return True
    return False


def test_the_total_must_be_the_subtotal_plus_shipping():
    order = OrderFactory()

    assert violates({"total": Decimal("0.01")}, pk=order.pk)
    assert violates({"subtotal": Decimal("-1.00")}, pk=order.pk)
    assert violates({"status": "lost"}, pk=order.pk)
    assert not violates(
        {"shipping_cost": Decimal("0.00"), "total": order.subtotal}, pk=order.pk
    )


def test_a_line_total_must_be_its_price_times_quantity():
    item = OrderFactory().items.get()

    assert violates({"line_total": Decimal("1.00")}, model=OrderItem, pk=item.pk)
    assert violates({"quantity": 0, "line_total": 0}, model=OrderItem, pk=item.pk)


def test_a_payment_keeps_at_most_four_digits_of_the_card():
    payment = PaidOrderFactory().payments.get()

    assert violates({"card_last4": "42ab"}, model=Payment, pk=payment.pk)
    with pytest.raises(DataError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(card_last4="4242424242424242")


def test_order_numbers_are_unique():
    first, second = OrderFactory(), OrderFactory()

    assert violates({"number": first.number}, pk=second.pk)


def test_an_idempotency_key_names_one_order_per_customer():
    user = UserFactory()
    first, second = OrderFactory(user=user), OrderFactory(user=user)
    other = OrderFactory()
    Order.objects.filter(pk=first.pk).update(idempotency_key="k1")

    assert violates({"idempotency_key": "k1"}, pk=second.pk)
    assert not violates({"idempotency_key": "k1"}, pk=other.pk)
    assert first.idempotency_key == second.idempotency_key == ""


def test_generated_numbers_look_like_sw_and_two_groups_of_four():
    number = generate_order_number()

    assert len(number) == 12
    assert number[:3] == "SW-"
    assert number[7] == "-"
    assert number != generate_order_number()


def test_for_user_and_visible_to_scope_the_orders():
    ada, bob, staff = UserFactory(), UserFactory(), StaffFactory()
    adas = OrderFactory(user=ada)
    bobs = OrderFactory(user=bob)

    assert list(Order.objects.for_user(ada)) == [adas]
    assert list(Order.objects.visible_to(bob)) == [bobs]
    assert list(Order.objects.visible_to(staff)) == [bobs, adas]
    assert list(Order.objects.for_user(staff)) == []


def test_with_details_reads_lines_and_history_in_three_queries(
    django_assert_num_queries,
):
    OrderFactory.create_batch(3)

    with django_assert_num_queries(3):
        orders = list(Order.objects.with_details())
        for order in orders:
            assert order.user.email
            assert len(order.items.all()) == 1
            assert [change.status for change in order.history.all()] == ["pending"]


def test_an_order_reads_as_its_number():
    order = OrderFactory()

    assert str(order) == order.number
