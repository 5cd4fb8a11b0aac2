"""The password-reset e-mail, sent by the reset page as a Celery task.

Apart from the other account e-mails (accounts.emails, sent by
accounts.services) because it is the page's own work, made by Django's
password-reset form. Without CELERY_BROKER_URL it runs in the sending
process.
"""

from celery import shared_task
from django.conf import settings

from accounts.forms import PasswordResetForm


@shared_task
def send_password_reset(email: str, domain: str, use_https: bool) -> None:
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
