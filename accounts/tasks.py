"""Background work of the accounts: e-mails.

Sent with `transaction.on_commit(...)` by accounts.services, so a task never
runs for a change that was rolled back. Without CELERY_BROKER_URL they run
in the sending process.
"""

import logging

from celery import shared_task
from django.conf import settings

from accounts import emails, services
from accounts.forms import PasswordResetForm
from accounts.models import User
from core import mail

logger = logging.getLogger(__name__)


def _user(user_id):
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.warning("User %s is gone: no e-mail sent", user_id)
    return user


@shared_task(**mail.RETRY)
def send_password_changed_notice(user_id):
    """Tell the user, at their address, that their password changed."""
    if user := _user(user_id):
        mail.send(emails.password_changed(user), template="password_changed")


@shared_task(**mail.RETRY)
def send_email_changed_notice(user_id, old_email):
    """Tell the address the account had that it moved to another."""
    if user := _user(user_id):
        mail.send(
            emails.email_changed(user, old_email=old_email), template="email_changed"
        )


@shared_task(**mail.RETRY)
def send_email_change_link(user_id, email):
    """Send the link that moves the account to `email` once opened.

    The link is made here rather than queued, so that no broker holds it.
    """
    if user := _user(user_id):
        token = services.email_change_token(user=user, email=email)
        mail.send(
            emails.email_change_link(email=email, token=token),
            template="email_change_link",
        )


@shared_task(**mail.RETRY)
def send_email_in_use_notice(owner_id):
    """Tell an address's owner that another account asked to use it."""
    if owner := _user(owner_id):
        mail.send(emails.email_in_use(owner), template="email_in_use")


@shared_task
def send_password_reset(email, domain, use_https):
    """E-mail a password-reset link to the account with this address, if any.

    The reset page sends this only once its answer has gone
    (accounts.views.PasswordResetView), so neither the answer nor its time
    tells whether the address has an account. Django's form finds the active
    accounts with a usable password and logs a failed send itself.
    """
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="accounts/password_reset_subject.txt",
            email_template_name="accounts/password_reset_email.txt",
            extra_email_context={"store_name": settings.STORE_NAME},
        )
