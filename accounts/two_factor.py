"""Two-factor sign-in to the admin: authenticator apps (TOTP, django-otp).

A staff member may set up one authenticator app; from then on the admin's
login wants its code as well as the password. While
ADMIN_2FA_REQUIRED_FOR_SUPERUSERS is on, a superuser without one is sent to
set one up before the admin opens. The shop's own pages and the API do not
ask for codes.

These are the accounts' rules for it, kept apart from services.py because
they concern only staff and the admin.
"""

import enum

import django_otp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

WRONG_CODE = "That code is not right. Type the 6 digits your app shows now."


class Admission(enum.Enum):
    """Where a signed-in staff member stands with the admin's second factor."""

    OPEN = "open"
    NEEDS_CODE = "needs code"
    NEEDS_AUTHENTICATOR = "needs authenticator"


def authenticator(user: User) -> TOTPDevice | None:
    """The user's authenticator app, once set up (confirmed)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def is_required(user: User) -> bool:
    return user.is_superuser and settings.ADMIN_2FA_REQUIRED_FOR_SUPERUSERS


def admission(user: User) -> Admission:
    """What the user still owes the admin's second factor in this session.

    `user` is request.user: its `otp_device` is the device whose code this
    session's login gave (django-otp's middleware sets it on each request,
    the admin's login form on the user it logs in), else None.
    """
    if getattr(user, "otp_device", None) is not None:
        return Admission.OPEN
    if authenticator(user) is not None:
        return Admission.NEEDS_CODE
    if is_required(user):
        return Admission.NEEDS_AUTHENTICATOR
    return Admission.OPEN


def verify_code(*, device: TOTPDevice, code: str) -> bool:
    """Check a code; each is accepted once, and wrong ones slow the device."""
    # django-otp locks the device's row, so one code cannot be used twice by
    # two requests at once.
    return django_otp.verify_token(device.user, device.persistent_id, code) is not None


def _pending(user, *, lock=False):
    devices = TOTPDevice.objects.devices_for_user(user, confirmed=False)
    if lock:
        devices = devices.select_for_update()
    return devices.order_by("pk").first()


@transaction.atomic
def start_authenticator_setup(*, user: User) -> TOTPDevice:
    """Return the authenticator the user is setting up, made on first call.

    The same one until it is confirmed, so that the QR code shown, however
    often the page is opened, is the one whose code will be checked.
    """
    # The user's row is the lock: two tabs opening the page at once make one.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    device = _pending(user)
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    return device


def confirm_authenticator(*, user: User, code: str) -> TOTPDevice:
    """Turn on the authenticator being set up, once it gives a right code.

    It replaces any authenticator the user had. Raises ValidationError (on
    `code`) for a wrong code.
    """
    with transaction.atomic():
        device = _pending(user, lock=True)
        confirmed = device is not None and device.verify_token(code)
        if confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    # Raised outside the transaction, so that the device's count of wrong
    # codes (its slow-down) is kept.
    if not confirmed:
        raise ValidationError({"code": [ValidationError(WRONG_CODE, code="invalid")]})
    return device
