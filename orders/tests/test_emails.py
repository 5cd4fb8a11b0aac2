"""The customer's emails: sent once the change commits, plain text and HTML."""

from decimal import Decimal

import pytest
from django.core import mail

from accounts.tests.factories import StaffFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders import services
from orders.tests.factories import (
    DECLINED_CARD,
    OrderFactory,
    PaidOrderFactory,
    address,
    fill_cart,
    pay,
)

pytestmark = pytest.mark.django_db


def html_of(message):
    (content, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return content


def test_checkout_sends_the_confirmation_once_it_commits(
    django_capture_on_commit_callbacks, settings
):
    settings.STORE_URL = "https://shop.example.com"
    user = UserFactory(email="ada@example.com")
    fill_cart(
        user,
        (ProductFactory(sku="MUG-1", name="Blue Mug", price=Decimal("12.50")), 2),
    )

    with django_capture_on_commit_callbacks(execute=True):
        order = services.place_order(
            user=user,
            shipping_address=address(full_name="Ada <Lovelace>"),
            note="Ring twice",
        ).order
        assert mail.outbox == []

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == f"ShopSwift: order {order.number} received"
    assert "Hello Ada <Lovelace>," in message.body
    assert "  2 x Blue Mug (MUG-1) at 12.50 = 25.00 USD" in message.body
    assert "Subtotal: 25.00 USD" in message.body
    assert "Shipping: 5.00 USD" in message.body
    assert "Total:    30.00 USD" in message.body
    assert "SW1Y 4JH London" in message.body
    assert "Your note: Ring twice" in message.body
    html = html_of(message)
    assert "Hello Ada &lt;Lovelace&gt;," in html
    assert (
        "<td>Blue Mug</td><td>MUG-1</td><td>2</td><td>12.50</td><td>25.00</td>" in html
    )
    assert "<strong>30.00 USD</strong>" in html
    order_url = f"https://shop.example.com/orders/{order.number}/"
    assert f"so please pay soon:\n{order_url}\n" in message.body
    assert f'<a href="{order_url}">pay soon</a>' in html


def test_each_email_leaves_one_log_line_without_its_contents(
    django_capture_on_commit_callbacks, caplog
):
    user = UserFactory(email="ada.lovelace@example.com", first_name="Ada")
    fill_cart(user, (ProductFactory(name="Blue Mug"), 1))

    with caplog.at_level("INFO", logger="core.mail"):
        with django_capture_on_commit_callbacks(execute=True):
            order = services.place_order(
                user=user, shipping_address=address(full_name="Ada Lovelace")
            ).order
        with django_capture_on_commit_callbacks(execute=True):
            pay(order)

    lines = [r for r in caplog.records if r.name == "core.mail"]
    assert [line.getMessage() for line in lines] == [
        f"E-mail order_confirmation to a***@example.com for order {order.number}",
        f"E-mail order_status to a***@example.com for order {order.number}",
    ]
    assert [(line.template, line.recipient, line.order) for line in lines] == [
        ("order_confirmation", "a***@example.com", order.number),
        ("order_status", "a***@example.com", order.number),
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "lovelace" not in logged.lower()
    assert "Blue Mug" not in logged


def test_a_refused_checkout_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    fill_cart(user, (ProductFactory(stock=0), 1))

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Exception, match="in stock"),
    ):
        services.place_order(user=user, shipping_address=address())

    assert mail.outbox == []


def test_payment_sends_the_paid_email(django_capture_on_commit_callbacks):
    order = OrderFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        pay(order)

    (message,) = mail.outbox
    assert message.subject == f"ShopSwift: order {order.number} is paid"
    assert f"Order {order.number}: we have received your payment." in message.body
    assert "Status: Paid" in message.body
    assert "Status: <strong>Paid</strong>" in html_of(message)
    order_url = f"http://127.0.0.1:8000/orders/{order.number}/"
    assert f"Your order: {order_url}\n" in message.body
    assert f'<a href="{order_url}">See your order</a>' in html_of(message)


def test_a_declined_payment_sends_nothing(django_capture_on_commit_callbacks):
    order = OrderFactory()
    mail.outbox.clear()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Exception, match="declined"),
    ):
        pay(order, card_number=DECLINED_CARD)

    assert mail.outbox == []


def test_shipping_sends_the_shipped_email(django_capture_on_commit_callbacks):
    order = PaidOrderFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_order_status(order=order, status="shipped", user=StaffFactory())

    (message,) = mail.outbox
    assert message.subject == f"ShopSwift: order {order.number} is shipped"
    assert "your order is on its way" in message.body
    assert "your order is on its way" in html_of(message)


def test_cancelling_a_paid_order_says_the_payment_is_refunded(
    django_capture_on_commit_callbacks,
):
    order = PaidOrderFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(
            order=order, user=StaffFactory(), note="Out of production"
        )

    (message,) = mail.outbox
    assert message.subject == f"ShopSwift: order {order.number} is cancelled"
    assert "Status: Cancelled (Out of production)" in message.body
    assert "Your payment of 24.99 USD will be refunded to you." in message.body
    assert "Your payment of 24.99 USD will be refunded to you." in html_of(message)


def test_cancelling_an_unpaid_order_mentions_no_refund(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, user=order.user)

    (message,) = mail.outbox
    assert "Nothing more will be charged for this order." in message.body
    assert "refunded" not in message.body


def test_an_email_that_cannot_be_sent_does_not_fail_the_order(
    settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 1},
        }
    }
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    user = UserFactory()
    fill_cart(user, (ProductFactory(), 1))

    with django_capture_on_commit_callbacks(execute=True):
        placed = services.place_order(user=user, shipping_address=address())

    assert placed.created is True
    assert placed.order.status == "pending"
    assert mail.outbox == []  # the unreachable SMTP server, not the test outbox
