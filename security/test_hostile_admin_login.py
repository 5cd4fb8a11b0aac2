"""Brute force against the admin's login, the staff console's front door.

The admin's login counts failures in the same counters as the API's and the
login page's (accounts/ratelimit.py), so an attacker gains nothing by moving
between them, and the form says when to try again.
"""

import pytest
from pytest_django.asserts import assertContains

from accounts.tests.clock import seconds_left
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory
from shopswift.testing import assert_problem

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
