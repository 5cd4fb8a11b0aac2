"""Account rules that the API, the pages and the admin share."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import emails
from accounts.addresses import clean_address
from accounts.exceptions import PrivilegeError
from accounts.models import Address, User, normalize_email
from accounts.tokens import EmailChange, read_email_change_token

EMAIL_TAKEN = "An account with this email address already exists."
EMAIL_TAKEN_SINCE = (
    "{email} now belongs to another account, so your email address is unchanged."
)
PASSWORD_INCORRECT = "Your current password is incorrect."
PASSWORD_NEEDED = "Enter your current password to change your email."
OWN_CREDENTIALS = (
    "Change your own email address or password from your account, which asks "
    "for your current password."
)
SUPERUSER_ONLY = "Only a superuser may change a superuser."
OTHER_STAFF = "Only a superuser may change another staff account."

# What makes a rank: only a superuser grants or revokes these.
PRIVILEGE_FIELDS = frozenset({"is_staff", "is_superuser", "groups", "user_permissions"})
# One's own login: changed only where the current password is asked for.
CREDENTIAL_FIELDS = frozenset({"email", "password"})


def _email_taken(email: str, *, exclude: User | None = None) -> bool:
    users = User.objects.filter(email__iexact=email)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.exists()


def _password_errors(password: str, user: User) -> list[ValidationError]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return error.error_list
    return []


def _save_keeping_email_unique(
    user: User, *, update_fields: Iterable[str] | None = None
) -> None:
    # The check before only gives the common case a friendly message; the
    # database's case-insensitive unique index decides under concurrency.
    try:
        with transaction.atomic():
            user.save(update_fields=update_fields)
    except IntegrityError:
        raise ValidationError(
            {"email": [ValidationError(EMAIL_TAKEN, code="unique")]}
        ) from None


def _check_current_password(user: User, password: str | None) -> None:
    if not password:
        error = ValidationError(PASSWORD_NEEDED, code="required")
    elif not user.check_password(password):
        error = ValidationError(PASSWORD_INCORRECT, code="password_incorrect")
    else:
        return
    raise ValidationError({"current_password": [error]})


def check_user_change(*, actor: User, target: User, fields: Iterable[str] = ()) -> None:
    """Raise PrivilegeError unless `actor` may make this change to `target`.

    `fields` names what would change; with none, the account as a whole (a
    deletion, or any change at all). Staff manage customers: their profile
    and active flag. Only a superuser may change a superuser or another
    staff account, or grant or revoke a rank, or staff could take over an
    account above their own (change its email, then reset its password).
    Nobody changes their own email or password here: that asks for the
    current password (update_profile, change_password).
    """
    fields = frozenset(fields)
    own = target.pk == actor.pk
    if own and fields & CREDENTIAL_FIELDS:
        raise PrivilegeError(OWN_CREDENTIALS)
    if actor.is_superuser:
        return
    if not own and not actor.is_staff:
        raise PrivilegeError("Only staff may change another account.")
    if fields & PRIVILEGE_FIELDS:
        raise PrivilegeError(
            "Only a superuser may grant or revoke staff status, superuser "
            "status, groups or permissions."
        )
    if target.is_superuser:
        raise PrivilegeError(SUPERUSER_ONLY)
    if target.is_staff and not own:
        raise PrivilegeError(OTHER_STAFF)


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
    changed_by: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    is_active: bool | None = None,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
) -> User:
    """Change an account as `changed_by` may (check_user_change decides).

    None leaves a field as it is. A new email applies at once: staff are
    trusted with customers' accounts (users change their own through
    update_profile, which asks them to confirm). It ends the user's
    sessions and tells the old address; deactivating ends the API sessions.
    """
    # Locked: the rank checked is the rank the change is made to.
    user = User.objects.select_for_update().get(pk=user.pk)
    new_email = None if email is None else normalize_email(email)
    values = {
        "first_name": first_name,
        "last_name": last_name,
        "email": new_email,
        "is_active": is_active,
        "is_staff": is_staff,
        "is_superuser": is_superuser,
    }
    changed = [
        field
        for field, value in values.items()
        if value is not None and getattr(user, field) != value
    ]
    check_user_change(actor=changed_by, target=user, fields=changed)
    if (
        new_email is not None
        and "email" in changed
        and _email_taken(new_email, exclude=user)
    ):
        raise ValidationError({"email": [ValidationError(EMAIL_TAKEN, code="unique")]})
    old_email = user.email
    for field in changed:
        setattr(user, field, values[field])
    if "email" in changed:
        user.session_generation += 1
        _save_keeping_email_unique(user, update_fields=[*changed, "session_generation"])
        _email_changed(user, old_email=old_email)
    elif changed:
        user.save(update_fields=changed)
    if is_active is False:
        # Django refuses an inactive user's page sessions on each request;
        # refresh tokens need revoking.
        blacklist_refresh_tokens(user=user)
    return user


@dataclass(frozen=True)
class ProfileChange:
    user: User
    # The new address a confirmation link (or a notice) went to, if any.
    pending_email: str | None


def is_email_change(*, user: User, email: str | None) -> bool:
    """Whether `email` would move the user to another address."""
    return email is not None and normalize_email(email) != user.email


@transaction.atomic
def update_profile(
    *,
    user: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    current_password: str | None = None,
) -> ProfileChange:
    """Change one's own names, and ask to move one's account to a new email.

    A new address needs the current password and applies only once
    confirmed from a link sent to it (confirm_email_change). The caller
    hears the same whether the address is free or taken, so that nobody
    learns which addresses have accounts: the owner of a taken address gets
    a notice instead of a link.
    """
    pending_email = None
    if is_email_change(user=user, email=email):
        _check_current_password(user, current_password)
        pending_email = normalize_email(email)
    user = update_user(
        user=user, changed_by=user, first_name=first_name, last_name=last_name
    )
    if pending_email is not None:
        owner_id = (
            User.objects.filter(email__iexact=pending_email)
            .values_list("pk", flat=True)
            .first()
        )
        if owner_id is None:
            task = partial(emails.send_email_change_link.delay, user.pk, pending_email)
        else:
            task = partial(emails.send_email_in_use_notice.delay, owner_id)
        transaction.on_commit(task, robust=True)
    return ProfileChange(user=user, pending_email=pending_email)


def read_email_change(*, token: str) -> EmailChange:
    """Return what a confirmation link asks for (ValidationError once it is dead)."""
    return read_email_change_token(token, users=User.objects.all())


@transaction.atomic
def confirm_email_change(*, token: str) -> User:
    """Move the account to the address a confirmation link carries.

    Ends every session of the user (refresh tokens and page sessions) and
    tells the old address. An address taken since the link was sent is
    refused now.
    """
    change = read_email_change_token(token, users=User.objects.select_for_update())
    user = change.user
    if _email_taken(change.email, exclude=user):
        message = EMAIL_TAKEN_SINCE.format(email=change.email)
        raise ValidationError({"email": [ValidationError(message, code="unique")]})
    old_email = user.email
    user.email = change.email
    user.session_generation += 1
    _save_keeping_email_unique(user, update_fields=["email", "session_generation"])
    _email_changed(user, old_email=old_email)
    return user


def _email_changed(user: User, *, old_email: str) -> None:
    # The page sessions end by the raised session generation.
    blacklist_refresh_tokens(user=user)
    transaction.on_commit(
        partial(emails.send_email_changed_notice.delay, user.pk, old_email),
        robust=True,
    )


@transaction.atomic
def change_password(*, user: User, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one (see set_password)."""
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
    return set_password(user=user, password=new_password)


@transaction.atomic
def set_password(*, user: User, password: str | None) -> User:
    """Give the user a new password (None: no password login), ending sessions.

    For callers that checked who may do this and validated the password (the
    reset link, the admin's forms). Every refresh token issued before is
    blacklisted; page sessions end by Django's session hash, which follows
    the password (a caller keeps its own with update_session_auth_hash);
    the user is told at their address.
    """
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    blacklist_refresh_tokens(user=user)
    transaction.on_commit(
        partial(emails.send_password_changed_notice.delay, user.pk), robust=True
    )
    return user


@transaction.atomic
def sign_out_everywhere(*, user: User) -> User:
    """End every session of the user: all refresh tokens and page sessions.

    A page that should stay logged in keeps its own session with
    update_session_auth_hash.
    """
    User.objects.filter(pk=user.pk).update(
        session_generation=F("session_generation") + 1
    )
    user.refresh_from_db(fields=["session_generation"])
    blacklist_refresh_tokens(user=user)
    return user


def revoke_refresh_token(*, user: User, token: str) -> None:
    """Blacklist one of the user's refresh tokens: log out that API session.

    Raises TokenError when the token is malformed, expired, already revoked
    or was issued to someone else.
    """
    refresh = RefreshToken(token)  # type: ignore[arg-type]  # simplejwt#787: hint says Token, takes str
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
def delete_user(*, user: User, deleted_by: User) -> None:
    """Delete an account as `deleted_by` may; ProtectedError while records need it."""
    check_user_change(actor=deleted_by, target=user)
    user.delete()


# --- Address book -----------------------------------------------------------------

# A book holds this many addresses at most: enough for any household, and a
# bound on what one account can make the store keep.
MAX_ADDRESSES = 50
BOOK_FULL = f"Your address book is full ({MAX_ADDRESSES} addresses): delete one first."
ADDRESS_NOT_FOUND = "No address of yours has this id."


def add_address(
    *, user: User, data: Mapping[str, object], make_default: bool = False
) -> Address:
    """Keep a checked copy of `data` in the user's address book.

    The first address becomes the default shipping address, as does one
    added with `make_default`. Raises ValidationError per field, or for a
    full book.
    """
    fields = clean_address(dict(data))
    with transaction.atomic():
        _lock_book(user)
        count = user.addresses.count()
        if count >= MAX_ADDRESSES:
            raise ValidationError(BOOK_FULL, code="book_full")
        if make_default:
            _clear_default(user_id=user.pk)
        return Address.objects.create(
            user=user, is_default_shipping=make_default or count == 0, **fields
        )


def update_address(
    *, address: Address, data: Mapping[str, object], default: bool | None = None
) -> Address:
    """Change the fields given in `data` (the others kept), checked whole.

    `default` True makes it the default shipping address, False makes it
    no longer one, None leaves that as it is.
    """
    fields = clean_address({**address.as_shipping_address(), **data})
    with transaction.atomic():
        _lock_book(address.user)
        if default:
            _clear_default(user_id=address.user_id, keeping=address.pk)
        for name, value in fields.items():
            setattr(address, name, value)
        if default is not None:
            address.is_default_shipping = default
        address.save()
    return address


def make_default_address(*, address: Address) -> Address:
    """Make `address` its owner's default shipping address (the only one)."""
    with transaction.atomic():
        _lock_book(address.user)
        _clear_default(user_id=address.user_id, keeping=address.pk)
        address.is_default_shipping = True
        address.save(update_fields=["is_default_shipping", "updated_at"])
    return address


def delete_address(*, address: Address) -> None:
    """Take `address` out of the book; orders shipped to it keep their copy."""
    address.delete()


def saved_address(*, user: User, pk: object) -> Address:
    """The user's address with this id; ValidationError if they have none."""
    try:
        return user.addresses.get(pk=int(str(pk)))
    except (ValueError, Address.DoesNotExist):
        raise ValidationError(ADDRESS_NOT_FOUND, code="not_found") from None


def save_shipping_address(*, user: User, fields: Mapping[str, str]) -> None:
    """Keep an order's checked address in the user's book, unless it is there.

    A full book keeps what it has: the order matters more than its copy.
    """
    with transaction.atomic():
        _lock_book(user)
        book = [address.as_shipping_address() for address in user.addresses.all()]
        if dict(fields) in book or len(book) >= MAX_ADDRESSES:
            return
        Address.objects.create(user=user, is_default_shipping=not book, **fields)


def _lock_book(user: User) -> None:
    # The user's row serialises the changes to one address book, so that
    # two requests cannot both add the 50th address or both set a default.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()


def _clear_default(*, user_id: int, keeping: int | None = None) -> None:
    """No address of the user's but `keeping` is the default any more."""
    defaults = Address.objects.filter(user_id=user_id, is_default_shipping=True)
    if keeping is not None:
        defaults = defaults.exclude(pk=keeping)
    defaults.update(is_default_shipping=False)
