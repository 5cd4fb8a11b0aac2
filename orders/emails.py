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
from django.urls import reverse

from accounts.models import User
from core import mail
from orders import access
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
        # The order's page, where the customer pays and follows it (signed
        # for a guest).
        "order_url": access.order_link(order),
        **context,
    }
    subject = render_to_string(f"{TEMPLATES}/{name}_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{TEMPLATES}/{name}.txt", context),
        to=[order.recipient],
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
    order = (
        Order.objects.with_details()
        .prefetch_related("promotions")
        .filter(pk=order_id)
        .first()
    )
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


def claim_link(*, email: str, claim_url: str) -> EmailMultiAlternatives:
    """The link that adds the guest orders of `email` to its account."""
    context = {
        "email": email,
        "claim_url": claim_url,
        "store_name": settings.STORE_NAME,
        "valid_days": settings.GUEST_ORDER_CLAIM_DAYS,
    }
    subject = render_to_string(f"{TEMPLATES}/claim_orders_subject.txt", context)
    return EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{TEMPLATES}/claim_orders.txt", context),
        to=[email],
    )


@shared_task(**mail.RETRY)
def send_claim_link(user_id: int) -> None:
    """E-mail a customer the link that adds their guest orders to the account.

    Made here rather than queued, so that no broker holds the link; sent to
    the account's address now, which the link then proves the user reads.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    url = settings.STORE_URL + reverse("orders:claim", args=[access.claim_token(user)])
    mail.send(claim_link(email=user.email, claim_url=url), template="claim_orders")
