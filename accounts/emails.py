"""The accounts' e-mails: security notices and the e-mail change link.

Plain text, like the password-reset e-mail. The notices go to the address
the account had, so that its owner hears of a change they did not make.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from core.mail import mask_address

TEMPLATES = "accounts/emails"


def _message(*, name, to, context):
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
        context={"old_email": old_email, "new_email": mask_address(user.email)},
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
