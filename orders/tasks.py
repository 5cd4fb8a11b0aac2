"""Background work of the orders: emails and the expiry of unpaid orders.

Sent with `transaction.on_commit(...)` by orders.services, so a task never
runs for work that was rolled back. Without CELERY_BROKER_URL they run in
the sending process.
"""

import logging

from celery import shared_task

from core import mail
from orders import emails, services
from orders.models import Order, OrderStatusChange

logger = logging.getLogger(__name__)


@shared_task(**mail.RETRY)
def send_order_confirmation(order_id):
    """Email the customer the confirmation of their new order."""
    order = Order.objects.with_details().filter(pk=order_id).first()
    if order is None:
        logger.warning("Order %s is gone: no confirmation sent", order_id)
        return
    mail.send(
        emails.order_confirmation(order),
        template="order_confirmation",
        order_number=order.number,
    )


@shared_task(**mail.RETRY)
def send_order_status_email(status_change_id):
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
        emails.status_change(change),
        template="order_status",
        order_number=change.order.number,
    )


@shared_task
def expire_unpaid_orders():
    """Cancel the unpaid orders past the payment timeout (Celery beat)."""
    expired = services.expire_unpaid_orders()
    if expired:
        logger.info(
            "Expired %d unpaid orders: %s",
            len(expired),
            ", ".join(order.number for order in expired),
        )
    return len(expired)
