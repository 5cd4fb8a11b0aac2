"""The orders' emails to customers: a plain-text body and an HTML part."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from orders.models import Order, OrderStatusChange, Payment

TEMPLATES = "orders/emails"

STATUS_HEADLINES = {
    Order.Status.PAID: "we have received your payment",
    Order.Status.SHIPPED: "your order is on its way",
    Order.Status.DELIVERED: "your order has been delivered",
    Order.Status.CANCELLED: "your order has been cancelled",
}


def _message(*, name, order, context):
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
