"""Aimed lockout: an attacker's failed logins must not lock the owner out.

Failed logins count per client IP, per email and per email-and-IP pair. An IP
past the limit is refused whatever the email; an email past the limit is
refused only to the IPs that failed for it. So the attacker gets 429, and the
owner, from wherever they did not fail, still logs in or resets the password.
"""

import re

import pytest
from django.core import mail
from pytest_django.asserts import assertRedirects

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ratelimit_clock")]

TOKEN = "/api/v1/auth/token/"
LOGIN_PAGE = "/accounts/login/"
PASSWORD_RESET_PAGE = "/accounts/password_reset/"
VICTIM = "victim@example.com"
ATTACKER_IP = "203.0.113.66"
OWNER_IP = "198.51.100.7"
NEW_PASSWORD = "a-brand-new-passphrase"


def log_in(client, password, ip):
    return client.post(
        TOKEN, {"email": VICTIM, "password": password}, format="json", REMOTE_ADDR=ip
    )


def fail(client, ip):
    assert_problem(log_in(client, "a-guess", ip), 401, "authentication_failed")


def test_five_failures_from_one_ip_refuse_that_ip_but_not_the_owner_elsewhere(
    api_client,
):
    UserFactory(email=VICTIM)
    for _ in range(5):
        fail(api_client, ATTACKER_IP)

    attacker = log_in(api_client, DEFAULT_PASSWORD, ATTACKER_IP)
    owner = log_in(api_client, DEFAULT_PASSWORD, OWNER_IP)

    assert_problem(attacker, 429, "throttled")
    assert owner.status_code == 200
    assert set(owner.json()) == {"access", "refresh"}


def test_failures_spread_over_many_ips_refuse_each_of_them_but_not_the_owner(
    api_client, client
):
    UserFactory(email=VICTIM)
    attacker_ips = [f"203.0.113.{number}" for number in range(1, 11)]
    for ip in attacker_ips:
        fail(api_client, ip)

    retries = [log_in(api_client, DEFAULT_PASSWORD, ip) for ip in attacker_ips]
    owner_api = log_in(api_client, DEFAULT_PASSWORD, OWNER_IP)
    owner_page = client.post(
        LOGIN_PAGE,
        {"username": VICTIM, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=OWNER_IP,
    )

    # Only the first five failures reach the limit; the other five IPs had
    # their one guess each, and every one of the ten is now refused.
    assert [response.status_code for response in retries] == [429] * 10
    assert owner_api.status_code == 200
    assertRedirects(owner_page, "/", fetch_redirect_response=False)
    assert client.session["_auth_user_id"]


def test_the_owner_resets_the_password_and_logs_in_while_the_attack_goes_on(
    api_client, client
):
    UserFactory(email=VICTIM)
    for _ in range(5):
        fail(api_client, ATTACKER_IP)

    requested = client.post(
        PASSWORD_RESET_PAGE, {"email": VICTIM}, REMOTE_ADDR=OWNER_IP
    )
    link = re.search(r"http://testserver(/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True, REMOTE_ADDR=OWNER_IP)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR=OWNER_IP,
    )
    owner = client.post(
        LOGIN_PAGE,
        {"username": VICTIM, "password": NEW_PASSWORD},
        REMOTE_ADDR=OWNER_IP,
    )
    attacker = log_in(api_client, NEW_PASSWORD, ATTACKER_IP)

    assertRedirects(requested, "/accounts/password_reset/done/")
    assertRedirects(owner, "/", fetch_redirect_response=False)
    assert_problem(attacker, 429, "throttled")
