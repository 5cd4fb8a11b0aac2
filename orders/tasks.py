"""The orders' periodic work: the expiry of unpaid orders (Celery beat).

The order emails are tasks too, beside the emails themselves
(orders.emails).
"""

import logging

from celery import shared_task

from orders import services

logger = logging.getLogger(__name__)


@shared_task
def expire_unpaid_orders() -> int:
    """Cancel the unpaid orders past the payment timeout (Celery beat)."""
    expired = services.expire_unpaid_orders()
    if expired:
        logger.info(
            "Expired %d unpaid orders: %s",
            len(expired),
            ", ".join(order.number for order in expired),
        )
    return len(expired)
