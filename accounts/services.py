"""Account rules that the API, the pages and the admin share."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User, normalize_email

EMAIL_TAKEN = "An account with this email address already exists."
PASSWORD_INCORRECT = "Your current password is incorrect."


def _email_taken(email, *, exclude=None):
    users = User.objects.filter(email__iexact=email)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.exists()


def _password_errors(password, user):
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return error.error_list
    return []


def _save_keeping_email_unique(user, **save_kwargs):
    # The check before only gives the common case a friendly message; the
    # database's case-insensitive unique index decides under concurrency.
    try:
        with transaction.atomic():
            user.save(**save_kwargs)
    except IntegrityError:
        raise ValidationError(
            {"email": [ValidationError(EMAIL_TAKEN, code="unique")]}
        ) from None


@transaction.atomic
def register_user(
    *, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create a customer account; the email is stored lower-cased."""
    user = User(
        email=normalize_email(email), first_name=first_name, last_name=last_name
    )
    errors = {}
    if _email_taken(user.email):
        errors["email"] = [ValidationError(EMAIL_TAKEN, code="unique")]
    if password_errors := _password_errors(password, user):
        errors["password"] = password_errors
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    _save_keeping_email_unique(user)
    return user


@transaction.atomic
def update_user(
    *,
    user: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    is_staff: bool | None = None,
) -> User:
    """Change a user's profile (and, for staff callers, the staff flag).

    None leaves a field as it is. Callers decide who may change what: the
    shopper's own forms never pass `is_staff`.
    """
    changes = {
        "first_name": first_name,
        "last_name": last_name,
        "is_staff": is_staff,
    }
    if email is not None:
        changes["email"] = normalize_email(email)
        if _email_taken(changes["email"], exclude=user):
            raise ValidationError(
                {"email": [ValidationError(EMAIL_TAKEN, code="unique")]}
            )
    changed = [
        field
        for field, value in changes.items()
        if value is not None and getattr(user, field) != value
    ]
    for field in changed:
        setattr(user, field, changes[field])
    if changed:
        _save_keeping_email_unique(user, update_fields=changed)
    return user


@transaction.atomic
def change_password(*, user: User, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one.

    Refresh tokens issued before stay valid until they expire, as the
    contract allows; page sessions elsewhere end (Django's session hash).
    """
    if not user.check_password(current_password):
        raise ValidationError(
            {
                "current_password": [
                    ValidationError(PASSWORD_INCORRECT, code="password_incorrect")
                ]
            }
        )
    if password_errors := _password_errors(new_password, user):
        raise ValidationError({"new_password": password_errors})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def set_active(*, user: User, is_active: bool) -> User:
    """Let a user log in again, or stop them without deleting their records.

    Deactivating also blacklists their refresh tokens, so API sessions end
    as well as page sessions (Django refuses inactive users on each request).
    """
    if user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
    if not is_active:
        blacklist_refresh_tokens(user=user)
    return user


def revoke_refresh_token(*, user: User, token: str) -> None:
    """Blacklist one of the user's refresh tokens: log out that API session.

    Raises TokenError when the token is malformed, expired, already revoked
    or was issued to someone else.
    """
    refresh = RefreshToken(token)
    if str(refresh.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise TokenError("Token was not issued to this user")
    refresh.blacklist()


def blacklist_refresh_tokens(*, user: User) -> None:
    """Blacklist every refresh token issued to the user."""
    tokens = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in tokens],
        # A token blacklisted meanwhile (a concurrent refresh) stays so.
        ignore_conflicts=True,
    )


@transaction.atomic
def delete_user(*, user: User) -> None:
    """Delete an account (refused with ProtectedError while records need it)."""
    user.delete()
