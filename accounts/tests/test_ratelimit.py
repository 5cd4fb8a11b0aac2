"""Rate limits: failed logins, registrations, password resets, per-user writes.

django-ratelimit's clock is frozen (`ratelimit_clock`) so that no window ends
mid-test; the counters are in the test run's real Redis database.
"""

import logging

import pytest
from django.core import mail
from django.test import RequestFactory
from django_ratelimit.checks import check_caches
from pytest_django.asserts import assertContains
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.clock import seconds_left
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.ratelimit import client_ip
from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ratelimit_clock")]

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
LOGIN_PAGE = "/accounts/login/"
REGISTER_PAGE = "/accounts/register/"
PASSWORD_RESET_PAGE = "/accounts/password_reset/"
ME_PASSWORD = "/api/v1/users/me/password/"
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR


def log_in(client, email, password="wrong-password", ip=CLIENT_IP, **headers):
    return client.post(
        TOKEN,
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=ip,
        headers=headers,
    )


def fail_logins(client, count, *, email=None, ip=CLIENT_IP):
    """Fail `count` logins, from one IP or for one email; assert each is 401."""
    for attempt in range(count):
        response = log_in(
            client,
            email or f"guess{attempt}@example.com",
            ip=ip if email is None else f"10.0.0.{attempt + 1}",
        )
        assert_problem(response, 401, "authentication_failed")


# --- Failed logins --------------------------------------------------------------------


def test_the_sixth_failed_login_from_one_ip_in_a_minute_is_429(
    api_client, ratelimit_clock
):
    UserFactory(email="ada@example.com")
    fail_logins(api_client, 5)

    response = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)

    body = assert_problem(response, 429, "throttled")
    assert body["detail"].startswith("Too many failed login attempts.")
    assert int(response["Retry-After"]) == seconds_left(
        CLIENT_IP, 60, ratelimit_clock.now
    )


def test_an_email_that_failed_five_times_is_refused_to_the_ips_that_failed(
    api_client, ratelimit_clock
):
    UserFactory(email="ada@example.com")
    UserFactory(email="grace@example.com")
    fail_logins(api_client, 5, email="ADA@example.com")

    refused = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD, ip="10.0.0.1")
    other_email = log_in(
        api_client, "grace@example.com", DEFAULT_PASSWORD, ip="10.0.0.1"
    )
    elsewhere = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD, ip="10.9.9.9")

    assert_problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) == min(
        seconds_left("ada@example.com", 60, ratelimit_clock.now),
        seconds_left("ada@example.com|10.0.0.1", 60, ratelimit_clock.now),
    )
    assert other_email.status_code == 200
    assert elsewhere.status_code == 200


def test_an_ip_refused_for_an_email_may_try_again_when_either_count_restarts(
    api_client, ratelimit_clock
):
    UserFactory(email="ada@example.com")
    fail_logins(api_client, 5, email="ada@example.com")
    refused = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD, ip="10.0.0.1")

    ratelimit_clock.advance(int(refused["Retry-After"]) - 1)
    too_early = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD, ip="10.0.0.1")
    ratelimit_clock.advance(1)
    on_time = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD, ip="10.0.0.1")

    assert too_early.status_code == 429
    assert on_time.status_code == 200


def test_five_failed_logins_are_still_answered_401(api_client):
    UserFactory(email="ada@example.com")
    fail_logins(api_client, 4)

    fifth = log_in(api_client, "ada@example.com")
    right = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)

    assert_problem(fifth, 401, "authentication_failed")
    assert_problem(right, 429, "throttled")


def test_successful_logins_are_not_counted(api_client):
    UserFactory(email="ada@example.com")

    statuses = [
        log_in(api_client, "ada@example.com", DEFAULT_PASSWORD).status_code
        for _ in range(12)
    ]

    assert statuses == [200] * 12


def test_a_bad_request_is_not_counted_as_a_failed_login(api_client):
    UserFactory(email="ada@example.com")
    for _ in range(6):
        api_client.post(TOKEN, {"email": "ada@example.com"}, format="json")

    response = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200


def test_logins_work_again_exactly_when_retry_after_says(api_client, ratelimit_clock):
    UserFactory(email="ada@example.com")
    fail_logins(api_client, 5)
    refused = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)
    retry_after = int(refused["Retry-After"])

    ratelimit_clock.advance(retry_after - 1)
    too_early = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)
    ratelimit_clock.advance(1)
    on_time = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert too_early.status_code == 429
    assert on_time.status_code == 200


def test_the_login_rate_comes_from_settings(api_client, settings):
    settings.RATELIMIT_LOGIN = "2/m"
    fail_logins(api_client, 2)

    response = log_in(api_client, "ada@example.com")

    assert_problem(response, 429, "throttled")


def test_failed_page_and_api_logins_share_one_count(api_client, client):
    UserFactory(email="ada@example.com")
    fail_logins(api_client, 3)
    for _ in range(2):
        page = client.post(LOGIN_PAGE, {"username": "x@example.com", "password": "x"})
        assert page.status_code == 200

    api = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)
    page = client.post(
        LOGIN_PAGE, {"username": "ada@example.com", "password": DEFAULT_PASSWORD}
    )

    assert_problem(api, 429, "throttled")
    assert page.status_code == 429


def test_a_limited_page_login_re_renders_the_form_with_a_message(
    client, ratelimit_clock
):
    UserFactory(email="ada@example.com")
    for _ in range(5):
        client.post(LOGIN_PAGE, {"username": "ada@example.com", "password": "x"})

    response = client.post(
        LOGIN_PAGE, {"username": "ada@example.com", "password": DEFAULT_PASSWORD}
    )

    wait = max(
        seconds_left(CLIENT_IP, 60, ratelimit_clock.now),
        seconds_left("ada@example.com", 60, ratelimit_clock.now),
    )
    assert response.status_code == 429
    assert response["Retry-After"] == str(wait)
    assertContains(
        response,
        f"Too many failed login attempts. Please try again in {wait} seconds.",
        status_code=429,
    )
    assertContains(response, 'value="ada@example.com"', status_code=429)
    assert "_auth_user_id" not in client.session


def test_wrong_current_passwords_count_as_failed_logins(api_client):
    user = UserFactory(email="ada@example.com")
    access = RefreshToken.for_user(user).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    for _ in range(5):
        wrong = api_client.post(
            ME_PASSWORD,
            {"current_password": "guess", "new_password": "a-new-passphrase"},
            format="json",
        )
        assert_problem(wrong, 400, "validation_error")

    response = api_client.post(
        ME_PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": "a-new-passphrase"},
        format="json",
    )

    assert_problem(response, 429, "throttled")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    api_client.credentials()
    assert_problem(log_in(api_client, "ada@example.com"), 429, "throttled")


def test_wrong_current_passwords_on_the_account_page_count_too(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    for _ in range(5):
        client.post(
            "/account/password/",
            {
                "current_password": "guess",
                "new_password1": "a-new-passphrase",
                "new_password2": "a-new-passphrase",
            },
        )

    response = client.post(
        "/account/password/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password1": "a-new-passphrase",
            "new_password2": "a-new-passphrase",
        },
    )

    assertContains(response, "Too many failed login attempts.", status_code=429)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


# --- Registrations --------------------------------------------------------------------


def register(client, number, ip=CLIENT_IP):
    return client.post(
        REGISTER,
        {"email": f"new{number}@example.com", "password": "a-fine-passphrase"},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_the_eleventh_registration_from_one_ip_in_an_hour_is_429(
    api_client, ratelimit_clock
):
    statuses = [register(api_client, number).status_code for number in range(10)]

    response = register(api_client, 10)
    elsewhere = register(api_client, 11, ip="10.2.2.2")

    assert statuses == [201] * 10
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) == seconds_left(
        CLIENT_IP, 3600, ratelimit_clock.now
    )
    assert elsewhere.status_code == 201
    assert not User.objects.filter(email="new10@example.com").exists()


def test_refused_registrations_count_too(api_client, settings):
    settings.RATELIMIT_REGISTER = "2/h"
    api_client.post(REGISTER, {"email": "bad"}, format="json")
    api_client.post(REGISTER, {"email": "bad"}, format="json")

    response = register(api_client, 1)

    assert_problem(response, 429, "throttled")


def test_a_limited_registration_page_says_so(client, settings):
    settings.RATELIMIT_REGISTER = "1/h"
    data = {
        "email": "ada@example.com",
        "password1": "analytical-engine-42",
        "password2": "analytical-engine-42",
    }
    client.post(REGISTER_PAGE, {**data, "email": "first@example.com"})
    client.logout()

    response = client.post(REGISTER_PAGE, data)

    assertContains(
        response, "Too many registrations from your network.", status_code=429
    )
    assertContains(response, 'value="ada@example.com"', status_code=429)
    assert int(response["Retry-After"]) >= 1
    assert not User.objects.filter(email="ada@example.com").exists()


def test_the_sixth_registration_for_one_address_in_an_hour_is_429_from_any_ip(
    api_client, ratelimit_clock
):
    statuses = [
        api_client.post(
            REGISTER,
            {"email": "ADA@example.com", "password": "short"},
            format="json",
            REMOTE_ADDR=f"10.4.0.{number}",
        ).status_code
        for number in range(1, 6)
    ]

    response = api_client.post(
        REGISTER,
        {"email": "ada@example.com", "password": "a-fine-passphrase"},
        format="json",
        REMOTE_ADDR="10.4.0.6",
    )

    assert statuses == [400] * 5
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) == seconds_left(
        "ada@example.com", 3600, ratelimit_clock.now
    )
    assert not User.objects.filter(email="ada@example.com").exists()


def test_registrations_for_one_address_count_on_the_page_and_the_api_together(
    api_client, client, settings
):
    settings.RATELIMIT_REGISTER_EMAIL = "1/h"
    api_client.post(
        REGISTER, {"email": "ada@example.com", "password": "short"}, format="json"
    )

    response = client.post(
        REGISTER_PAGE,
        {
            "email": "Ada@example.com",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-42",
        },
        REMOTE_ADDR="10.5.5.5",
    )

    assertContains(
        response,
        "Too many registration attempts for this email address. Please try again in",
        status_code=429,
    )
    assert not User.objects.filter(email="ada@example.com").exists()


# --- Password reset requests ----------------------------------------------------------


def test_the_sixth_password_reset_request_from_one_ip_in_an_hour_is_refused(
    client, ratelimit_clock
):
    UserFactory(email="ada@example.com")
    for _ in range(5):
        assert client.post(
            PASSWORD_RESET_PAGE, {"email": "ada@example.com"}
        ).status_code == (302)

    response = client.post(PASSWORD_RESET_PAGE, {"email": "ada@example.com"})

    assertContains(
        response,
        "Too many password reset requests from your network.",
        status_code=429,
    )
    assert response["Retry-After"] == str(
        seconds_left(CLIENT_IP, 3600, ratelimit_clock.now)
    )
    assert len(mail.outbox) == 5


# --- Per-user limits for other apps (user_rate_limit) ---------------------------------


@pytest.mark.urls("accounts.tests.urls")
def test_user_rate_limit_counts_each_users_writes(
    api_client, settings, ratelimit_clock
):
    settings.RATELIMIT_CART_WRITE = "2/m"
    alice, bob = UserFactory(), UserFactory()
    api_client.force_authenticate(alice)
    writes = [api_client.post("/api/v1/test/cart/").status_code for _ in range(2)]
    reads = [api_client.get("/api/v1/test/cart/").status_code for _ in range(3)]

    refused = api_client.post("/api/v1/test/cart/")
    api_client.force_authenticate(bob)
    other_user = api_client.post("/api/v1/test/cart/")

    assert writes == [201, 201]
    assert reads == [200, 200, 200]
    assert_problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) == seconds_left(
        f"user:{alice.pk}", 60, ratelimit_clock.now
    )
    assert other_user.status_code == 201


@pytest.mark.urls("accounts.tests.urls")
def test_user_rate_limit_can_count_one_action_only(api_client, settings):
    settings.RATELIMIT_CHECKOUT = "1/m"
    api_client.force_authenticate(UserFactory())
    first = api_client.post("/api/v1/test/checkout/")
    others = [
        api_client.post("/api/v1/test/checkout/other/").status_code for _ in range(3)
    ]

    second = api_client.post("/api/v1/test/checkout/")

    assert first.status_code == 201
    assert others == [200, 200, 200]
    assert_problem(second, 429, "throttled")


@pytest.mark.urls("accounts.tests.urls")
def test_an_anonymous_request_is_refused_before_it_is_counted(api_client, settings):
    settings.RATELIMIT_CART_WRITE = "1/m"

    responses = [api_client.post("/api/v1/test/cart/") for _ in range(3)]

    for response in responses:
        assert_problem(response, 401, "not_authenticated")


@pytest.mark.urls("accounts.tests.urls")
def test_django_ratelimits_own_exception_is_429_not_403(api_client):
    response = api_client.get("/api/v1/test/ratelimited/")

    assert_problem(response, 429, "throttled")
    assert "Retry-After" not in response


# --- The client's address -------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote_addr", "header", "expected"),
    [
        ("192.0.2.7", None, "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::"),
        ("10.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "not an address", "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
    ],
    ids=["ipv4", "ipv6-per-64", "proxy-header", "malformed-header", "empty-header"],
)
def test_client_ip(settings, remote_addr, header, expected):
    settings.RATELIMIT_CLIENT_IP_HEADER = "X-Real-IP"
    headers = {} if header is None else {"X-Real-IP": header}
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, headers=headers)

    assert client_ip(request) == expected


def test_the_proxy_header_is_ignored_unless_configured(settings):
    settings.RATELIMIT_CLIENT_IP_HEADER = ""
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", headers={"X-Real-IP": "203.0.113.9"}
    )

    assert client_ip(request) == "10.0.0.1"


def test_behind_a_proxy_failed_logins_count_per_client(api_client, settings):
    settings.RATELIMIT_CLIENT_IP_HEADER = "X-Real-IP"
    for attempt in range(5):
        log_in(
            api_client, f"guess{attempt}@example.com", **{"X-Real-IP": "203.0.113.9"}
        )

    same_client = log_in(api_client, "x@example.com", **{"X-Real-IP": "203.0.113.9"})
    other_client = log_in(api_client, "x@example.com", **{"X-Real-IP": "203.0.113.10"})

    assert_problem(same_client, 429, "throttled")
    assert_problem(other_client, 401, "authentication_failed")


# --- When Redis is down ---------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """Point the cache and the rate-limit counters at a port where nothing listens."""
    settings.CACHES = {
        alias: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:18199/10",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
        for alias in ("default", "ratelimit")
    }


@pytest.mark.usefixtures("redis_down")
def test_logins_fail_open_when_redis_is_down(api_client, caplog):
    UserFactory(email="ada@example.com")

    with caplog.at_level(logging.ERROR, logger="core.ratelimit"):
        failures = [log_in(api_client, "ada@example.com").status_code for _ in range(7)]
        success = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)

    assert failures == [401] * 7
    assert success.status_code == 200
    assert "Rate limit accounts.login.ip not checked: the cache is unreachable" in (
        caplog.text
    )


@pytest.mark.usefixtures("redis_down")
def test_logins_fail_closed_when_so_configured(api_client, settings):
    settings.RATELIMIT_FAIL_OPEN = False
    UserFactory(email="ada@example.com")

    response = log_in(api_client, "ada@example.com", DEFAULT_PASSWORD)

    assert_problem(response, 429, "throttled")
    assert response["Retry-After"] == "60"


# --- Configuration ----------------------------------------------------------------


def test_django_ratelimits_cache_checks_pass_on_redis(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"

    assert check_caches(None) == []
    assert not any(
        check.startswith("django_ratelimit")
        for check in getattr(settings, "SILENCED_SYSTEM_CHECKS", [])
    )
