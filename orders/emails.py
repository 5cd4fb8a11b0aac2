"""The orders' emails to customers (a plain-text body and an HTML part) and
the Celery tasks that send them.

orders.services sends the tasks with `transaction.on_commit(...)`, so that
no email goes out for work that was rolled back. Without CELERY_BROKER_URL
they run in the sending process.
"""

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from core import mail
from orders.models import Order, OrderStatusChange, Payment

logger = logging.getLogger(__name__)

TEMPLATES = "orders/emails"

STATUS_HEADLINES: dict[str, str] = {
    Order.Status.PAID: "we have received your payment",
    Order.Status.SHIPPED: "your order is on its way",
    Order.Status.DELIVERED: "your order has been delivered",
    Order.Status.CANCELLED: "your order has been cancelled",
}


def _message(
    *, name: str, order: Order, context: dict[str, Any]
) -> EmailMultiAlternatives:
    context = {
        "order": order,
        "items": order.items.all(),
        "address": order.shipping_address,
        "store_name": settings.STORE_NAME,
        # The order's page, where the customer pays and follows it.
        "order_url": settings.STORE_URL + order.get_absolute_url(),
        **context,
    }
    subject = render_to_string(f"{TEMPLATES}/{name}_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{TEMPLATES}/{name}.txt", context),
        to=[order.user.email],
    )
    message.attach_alternative(
        render_to_string(f"{TEMPLATES}/{name}.html", context), "text/html"
    )
    return message


def order_confirmation(order: Order) -> EmailMultiAlternatives:
    """The email that confirms a new order: its lines, totals and address."""
    return _message(name="order_confirmation", order=order, context={})


def status_change(change: OrderStatusChange) -> EmailMultiAlternatives:
    """The email that tells the customer their order moved on (or was cancelled)."""
    return _message(
        name="order_status",
        order=change.order,
        context={
            "change": change,
            "headline": STATUS_HEADLINES.get(change.status, "your order was updated"),
            "was_paid": change.order.payments.filter(
                outcome=Payment.Outcome.APPROVED
            ).exists(),
        },
    )


@shared_task(**mail.RETRY)
def send_order_confirmation(order_id: int) -> None:
    """Email the customer the confirmation of their new order."""
    order = Order.objects.with_details().filter(pk=order_id).first()
    if order is None:
        logger.warning("Order %s is gone: no confirmation sent", order_id)
        return
    mail.send(
        order_confirmation(order),
        template="order_confirmation",
        order_number=order.number,
    )


@shared_task(**mail.RETRY)
def send_order_status_email(status_change_id: int) -> None:
    """Email the customer that their order's status changed."""
    change = (
        OrderStatusChange.objects.select_related("order__user")
        .filter(pk=status_change_id)
        .first()
    )
    if change is None:
        logger.warning("Status change %s is gone: no email sent", status_change_id)
        return
    mail.send(
        status_change(change),
        template="order_status",
        order_number=change.order.number,
    )
