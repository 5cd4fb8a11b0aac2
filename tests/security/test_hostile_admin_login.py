"""Brute force against the admin's login, the staff console's front door.

The admin's login counts failures in the same counters as the API's and the
login page's (accounts/limits.py), so an attacker gains nothing by moving
between them, and the form says when to try again. A staff member with an
authenticator app needs its code too, wrong codes count as failed logins, and
a superuser without one (where required) is sent to set it up.
"""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains

from accounts.tests.clock import seconds_left
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory
from accounts.tests.otp import TOTPDeviceFactory, current_code, wrong_code
from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ratelimit_clock")]

ADMIN_LOGIN = "/admin/login/"
TOKEN = "/api/v1/auth/token/"
BOSS = "boss@example.com"
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR


def admin_log_in(client, password, email=BOSS):
    return client.post(
        ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"}
    )


def api_log_in(api_client, password, email=BOSS):
    return api_client.post(TOKEN, {"email": email, "password": password}, format="json")


def test_the_admin_login_refuses_a_sixth_attempt_even_with_the_right_password(
    client, ratelimit_clock
):
    StaffFactory(email=BOSS)
    failures = [admin_log_in(client, f"guess-{n}") for n in range(5)]

    response = admin_log_in(client, DEFAULT_PASSWORD)

    wait = max(
        seconds_left(CLIENT_IP, 60, ratelimit_clock.now),
        min(
            seconds_left(BOSS, 60, ratelimit_clock.now),
            seconds_left(f"{BOSS}|{CLIENT_IP}", 60, ratelimit_clock.now),
        ),
    )
    assert [failure.status_code for failure in failures] == [200] * 5
    assert response.status_code == 429
    assert response["Retry-After"] == str(wait)
    assertContains(
        response,
        f"Too many failed login attempts. Please try again in {wait} seconds.",
        status_code=429,
    )
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_failed_api_logins_count_towards_the_admin_login(client, api_client):
    StaffFactory(email=BOSS)
    for _ in range(3):
        assert_problem(api_log_in(api_client, "guess"), 401, "authentication_failed")
    for _ in range(2):
        assert admin_log_in(client, "guess").status_code == 200

    admin = admin_log_in(client, DEFAULT_PASSWORD)
    api = api_log_in(api_client, DEFAULT_PASSWORD)

    assert admin.status_code == 429
    assert_problem(api, 429, "throttled")
    assert "_auth_user_id" not in client.session


def test_failed_admin_logins_for_customers_and_unknown_emails_count_too(
    client, api_client
):
    for number in range(5):
        admin_log_in(client, "guess", email=f"nobody{number}@example.com")

    response = api_log_in(api_client, "guess")

    assert_problem(response, 429, "throttled")


# --- Two-factor sign-in ---------------------------------------------------------------


def test_a_staff_member_with_an_authenticator_cannot_enter_with_the_password_alone(
    client,
):
    boss = StaffFactory(email=BOSS)
    TOTPDeviceFactory(user=boss)

    without_code = admin_log_in(client, DEFAULT_PASSWORD)
    wrong = client.post(
        ADMIN_LOGIN,
        {"username": BOSS, "password": DEFAULT_PASSWORD, "otp_token": "12345x"},
    )
    client.post("/accounts/login/", {"username": BOSS, "password": DEFAULT_PASSWORD})
    through_the_shop = client.get("/admin/")

    for response in (without_code, wrong):
        # The same answer as a wrong password: nothing tells the password
        # was right.
        assertContains(
            response,
            "Please enter the correct email, password and authentication code "
            "for a staff account.",
        )
    assert through_the_shop.status_code == 302
    assert through_the_shop["Location"] == "/admin/login/?next=/admin/"


def test_the_right_code_opens_the_admin(client):
    boss = StaffFactory(email=BOSS)
    device = TOTPDeviceFactory(user=boss)

    response = client.post(
        ADMIN_LOGIN,
        {
            "username": BOSS,
            "password": DEFAULT_PASSWORD,
            "otp_token": current_code(device),
            "next": "/admin/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_wrong_codes_count_as_failed_logins(client, api_client):
    boss = StaffFactory(email=BOSS)
    device = TOTPDeviceFactory(user=boss)
    for _ in range(5):
        refused = client.post(
            ADMIN_LOGIN,
            {
                "username": BOSS,
                "password": DEFAULT_PASSWORD,
                "otp_token": wrong_code(device),
            },
        )
        assert refused.status_code == 200

    right = client.post(
        ADMIN_LOGIN,
        {
            "username": BOSS,
            "password": DEFAULT_PASSWORD,
            "otp_token": current_code(device),
        },
    )
    api = api_log_in(api_client, DEFAULT_PASSWORD)

    assertContains(right, "Too many failed login attempts.", status_code=429)
    assert "_auth_user_id" not in client.session
    assert_problem(api, 429, "throttled")


def test_a_superuser_without_an_authenticator_is_sent_to_set_one_up(client, settings):
    settings.ADMIN_2FA_REQUIRED_FOR_SUPERUSERS = True
    StaffFactory(email=BOSS, is_superuser=True)

    login = admin_log_in(client, DEFAULT_PASSWORD)
    index = client.get("/admin/", follow=True)
    users = client.get("/admin/accounts/user/", follow=True)

    assert login.status_code == 302
    assert login["Location"] == "/admin/two-factor/"
    for response in (index, users):
        assert response.redirect_chain[-1][0] == "/admin/two-factor/"
        assertContains(response, "Scan this QR code")


def test_a_session_without_the_code_cannot_add_an_authenticator(client):
    boss = StaffFactory(email=BOSS)
    device = TOTPDeviceFactory(user=boss)
    client.post("/accounts/login/", {"username": BOSS, "password": DEFAULT_PASSWORD})

    page = client.get("/admin/two-factor/")
    image = client.get("/admin/two-factor/qr.svg")

    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/")
    assert image.status_code == 302
    assert list(TOTPDevice.objects.filter(user=boss)) == [device]
