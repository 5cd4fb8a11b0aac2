"""The accounts' e-mails: security notices and the e-mail change link, and
the Celery tasks that send them.

Plain text, like the password-reset e-mail. The notices go to the address
the account had, so that its owner hears of a change they did not make.
accounts.services sends the tasks with `transaction.on_commit(...)`, so
that no e-mail goes out for a change that was rolled back. Without
CELERY_BROKER_URL they run in the sending process.
"""

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from accounts.tokens import email_change_token
from core import mail

logger = logging.getLogger(__name__)

TEMPLATES = "accounts/emails"


def _message(*, name: str, to: str, context: dict[str, Any]) -> EmailMessage:
    context = {
        "store_name": settings.STORE_NAME,
        "login_url": settings.STORE_URL + reverse("login"),
        "reset_url": settings.STORE_URL + reverse("password_reset"),
        **context,
    }
    subject = render_to_string(f"{TEMPLATES}/{name}_subject.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{TEMPLATES}/{name}.txt", context),
        to=[to],
    )


def password_changed(user: User) -> EmailMessage:
    """Tell the user that their password changed, and what to do if not them."""
    return _message(
        name="password_changed", to=user.email, context={"email": user.email}
    )


def email_changed(user: User, *, old_email: str) -> EmailMessage:
    """Tell the old address that the account moved to another one.

    The new address is masked: whoever reads the old mailbox (perhaps no
    longer the account's owner) learns only enough to recognise it.
    """
    return _message(
        name="email_changed",
        to=old_email,
        context={"old_email": old_email, "new_email": mail.mask_address(user.email)},
    )


def email_change_link(*, email: str, token: str) -> EmailMessage:
    """The link, sent to the new address, that moves the account to it."""
    return _message(
        name="email_change_link",
        to=email,
        context={
            "email": email,
            "confirm_url": settings.STORE_URL
            + reverse("account-email-confirm", args=[token]),
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )


def email_in_use(owner: User) -> EmailMessage:
    """Tell an address's owner that another account asked for it; no link."""
    return _message(name="email_in_use", to=owner.email, context={"email": owner.email})


def _user(user_id: int) -> User | None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.warning("User %s is gone: no e-mail sent", user_id)
    return user


@shared_task(**mail.RETRY)
def send_password_changed_notice(user_id: int) -> None:
    """Tell the user, at their address, that their password changed."""
    if user := _user(user_id):
        mail.send(password_changed(user), template="password_changed")


@shared_task(**mail.RETRY)
def send_email_changed_notice(user_id: int, old_email: str) -> None:
    """Tell the address the account had that it moved to another."""
    if user := _user(user_id):
        mail.send(email_changed(user, old_email=old_email), template="email_changed")


@shared_task(**mail.RETRY)
def send_email_change_link(user_id: int, email: str) -> None:
    """Send the link that moves the account to `email` once opened.

    The link is made here rather than queued, so that no broker holds it.
    """
    if user := _user(user_id):
        token = email_change_token(user=user, email=email)
        mail.send(
            email_change_link(email=email, token=token), template="email_change_link"
        )


@shared_task(**mail.RETRY)
def send_email_in_use_notice(owner_id: int) -> None:
    """Tell an address's owner that another account asked to use it."""
    if owner := _user(owner_id):
        mail.send(email_in_use(owner), template="email_in_use")
