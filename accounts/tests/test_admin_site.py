"""The store's admin site: the login's second factor and its setup pages.

The attacks on the login (brute force, codes) are in
tests/security/test_hostile_admin_login.py.
"""

import io
from base64 import b32encode

import pytest
import segno
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertNotContains

from accounts import two_factor
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from accounts.tests.otp import (
    TOTPDeviceFactory,
    current_code,
    log_in_to_the_admin,
    wrong_code,
)

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
SETUP = "/admin/two-factor/"
QR_CODE = "/admin/two-factor/qr.svg"


def test_the_login_form_asks_for_the_code_and_offers_a_password_reset(client):
    response = client.get(LOGIN)

    assertContains(response, '<label for="id_otp_token">Authentication code</label>')
    assertContains(response, 'autocomplete="one-time-code"')
    assertContains(response, '<a href="/accounts/password_reset/">')


@pytest.mark.parametrize("superuser", [False, True], ids=["staff", "superuser"])
def test_without_an_authenticator_the_password_is_enough_unless_required(
    client, settings, superuser
):
    settings.ADMIN_2FA_REQUIRED_FOR_SUPERUSERS = False
    StaffFactory(email="boss@example.com", is_superuser=superuser)

    response = client.post(
        LOGIN,
        {
            "username": "boss@example.com",
            "password": DEFAULT_PASSWORD,
            "next": "/admin/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_every_admin_page_links_to_two_factor_sign_in(client):
    client.force_login(StaffFactory())

    response = client.get("/admin/")

    assertContains(response, f'<a href="{SETUP}">Two-factor sign-in</a>')


def test_the_setup_page_shows_the_qr_code_and_the_key(client):
    boss = StaffFactory()
    client.force_login(boss)

    response = client.get(SETUP)

    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    key = b32encode(device.bin_key).decode()
    assertContains(response, f'<img src="{QR_CODE}"')
    assertContains(response, f"<code>{key}</code>")
    assertContains(response, "Scan this QR code")
    assert response["Cache-Control"] == (
        "max-age=0, no-cache, no-store, must-revalidate, private"
    )
    assert "img-src 'self'" in response["Content-Security-Policy"]


def test_the_qr_code_is_an_uncached_svg_of_the_pending_authenticator(client):
    boss = StaffFactory()
    client.force_login(boss)
    client.get(SETUP)

    response = client.get(QR_CODE)

    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    expected = io.BytesIO()
    segno.make(device.config_url, error="m").save(expected, kind="svg", scale=5)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == (
        "max-age=0, no-cache, no-store, must-revalidate, private"
    )
    assert response.content == expected.getvalue()
    assert device.config_url.startswith("otpauth://totp/ShopSwift%3A")


def test_the_right_code_turns_it_on_and_keeps_this_session_in(client, settings):
    settings.ADMIN_2FA_REQUIRED_FOR_SUPERUSERS = True
    boss = StaffFactory(is_superuser=True)
    client.force_login(boss)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=boss)

    response = client.post(SETUP, {"code": current_code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assertContains(client.get("/admin/"), "Two-factor sign-in is on")
    assert two_factor.authenticator(boss) == device


def test_a_wrong_code_is_shown_beside_the_field(client):
    boss = StaffFactory()
    client.force_login(boss)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=boss)

    response = client.post(SETUP, {"code": wrong_code(device)})

    assert response.status_code == 200
    assert response.context["form"].errors == {"code": [two_factor.WRONG_CODE]}
    assertContains(response, two_factor.WRONG_CODE)
    assert two_factor.authenticator(boss) is None


def test_a_verified_session_may_move_the_authenticator_to_a_new_phone(client):
    boss = StaffFactory()
    old = log_in_to_the_admin(client, boss)

    page = client.get(SETUP)
    new = TOTPDevice.objects.get(user=boss, confirmed=False)
    client.post(SETUP, {"code": current_code(new)})

    assertContains(page, "Two-factor sign-in is on for your account.")
    assert two_factor.authenticator(boss) == new
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_a_superuser_sent_to_the_setup_may_log_out(client, settings):
    settings.ADMIN_2FA_REQUIRED_FOR_SUPERUSERS = True
    client.force_login(StaffFactory(is_superuser=True))

    response = client.get(SETUP)

    assertContains(response, '<form method="post" action="/accounts/logout/">')
    assertNotContains(response, 'id="user-tools"')


@pytest.mark.parametrize("who", ["anonymous", "customer", "inactive staff"])
def test_only_active_staff_reach_the_setup(client, who):
    if who == "customer":
        client.force_login(UserFactory())
    elif who == "inactive staff":
        client.force_login(StaffFactory(is_active=False))

    responses = [client.get(SETUP), client.get(QR_CODE)]

    for response in responses:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")
    assert not TOTPDevice.objects.exists()


def test_the_login_with_a_code_remembers_the_authenticator_in_the_session(client):
    boss = StaffFactory(email="boss@example.com")
    device = TOTPDeviceFactory(user=boss)

    client.post(
        LOGIN,
        {
            "username": "boss@example.com",
            "password": DEFAULT_PASSWORD,
            "otp_token": current_code(device),
        },
    )

    assert client.session["otp_device_id"] == device.persistent_id
