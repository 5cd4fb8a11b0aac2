"""The token an email change link carries: the account, its new address and
the account's state when the link was made, signed.

A token lasts as long as a password-reset link, and dies as soon as the
account's email, password or session generation changes, so a link works
once and not after a new password or a sign-out everywhere.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

SALT = "accounts.email_change"
LINK_INVALID = (
    "This link no longer works: it has expired or been used, or the account "
    "changed since it was sent."
)


@dataclass(frozen=True)
class EmailChange:
    user: User
    email: str


def email_change_token(*, user: User, email: str) -> str:
    """Sign what a confirmation link carries: the account and its new address."""
    return signing.dumps(
        {"user": user.pk, "email": email, "state": _account_state(user)},
        salt=SALT,
    )


def read_email_change_token(token: str, *, users: QuerySet[User]) -> EmailChange:
    """Return the change a token asks for, its user read from `users`.

    Raises ValidationError (LINK_INVALID) once the token is dead, or when
    its user is inactive or not among `users`.
    """
    invalid = ValidationError(LINK_INVALID, code="invalid_link")
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.BadSignature:
        raise invalid from None
    user = users.filter(pk=data["user"], is_active=True).first()
    if user is None or not constant_time_compare(data["state"], _account_state(user)):
        raise invalid
    return EmailChange(user=user, email=data["email"])


def _account_state(user):
    return salted_hmac(
        SALT,
        f"{user.email}\n{user.password}\n{user.session_generation}",
        algorithm="sha256",
    ).hexdigest()
