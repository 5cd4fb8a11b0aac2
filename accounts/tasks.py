"""Background work of the accounts: e-mails.

Without CELERY_BROKER_URL they run in the sending process.
"""

from celery import shared_task
from django.conf import settings

# The module, not the form: accounts.forms imports services, which imports
# this module.
from accounts import forms as account_forms


@shared_task
def send_password_reset(email, domain, use_https):
    """E-mail a password-reset link to the account with this address, if any.

    The reset page sends this only once its answer has gone
    (accounts.views.PasswordResetView), so neither the answer nor its time
    tells whether the address has an account. Django's form finds the active
    accounts with a usable password and logs a failed send itself.
    """
    form = account_forms.PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="accounts/password_reset_subject.txt",
            email_template_name="accounts/password_reset_email.txt",
            extra_email_context={"store_name": settings.STORE_NAME},
        )
