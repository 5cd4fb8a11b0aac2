"""Two-factor devices for tests: an authenticator app set up, and its codes."""

import factory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import authenticator


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    name = "Authenticator app"
    confirmed = True


def codes_now(device):
    """The codes the device accepts at this moment (one step either side)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = totp.t()
    codes = []
    for offset in range(-device.tolerance, device.tolerance + 1):
        totp.time = (now + offset) * device.step + device.t0
        codes.append(f"{totp.token():06d}")
    return codes


def current_code(device):
    return codes_now(device)[device.tolerance]


def wrong_code(device):
    """A code that the device refuses now."""
    accepted = set(codes_now(device))
    return next(code for code in ("123456", "654321", "111111") if code not in accepted)


def log_in_to_the_admin(client, user):
    """Log `user` in as the admin's login does after a right code."""
    device = authenticator(user) or TOTPDeviceFactory(user=user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
