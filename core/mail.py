"""The store's e-mails leave one log line each: never the e-mail itself.

A line names the template, the recipient masked (`a***@example.com`) and
the order, enough to answer "was the confirmation sent?" without putting
names, addresses and order contents into the logs.
"""

import logging
from collections.abc import Iterable
from smtplib import SMTPException
from typing import TypedDict

from django.core.mail import EmailMessage

logger = logging.getLogger("core.mail")


class RetryOptions(TypedDict):
    autoretry_for: tuple[type[Exception], ...]
    retry_backoff: int
    retry_backoff_max: int
    max_retries: int


# For the Celery tasks that send e-mails: mail servers fail for a while, so
# an e-mail is tried again later (after about 1, 2, 4… minutes), at most five
# times.
RETRY: RetryOptions = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 30 * 60,
    "max_retries": 5,
}


def mask_address(address: str) -> str:
    """`ada@example.com` → `a***@example.com`: the domain and a first letter."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def log_email(
    *, template: str, recipients: Iterable[str], order_number: str | None = None
) -> None:
    masked = ", ".join(mask_address(address) for address in recipients)
    logger.info(
        "E-mail %s to %s%s",
        template,
        masked,
        f" for order {order_number}" if order_number else "",
        extra={"template": template, "recipient": masked, "order": order_number},
    )


def send(
    message: EmailMessage, *, template: str, order_number: str | None = None
) -> None:
    """Send an e-mail, then log its line. A failure raises and logs nothing."""
    message.send()
    log_email(template=template, recipients=message.to, order_number=order_number)
