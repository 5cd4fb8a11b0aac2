"""Account enumeration through the password-reset page and registration.

The page must answer an address with an account exactly as it answers one
without: the same redirect, in the same time. The attacker times the answer
over HTTP from a live server, so what happens after the answer has gone (the
e-mail) is not in the figure, as it would not be in production. The mail
transport is as slow as a mail server across a network (SMTP_DELAY), which
is what made the answer slow for a known address (260 to 340 ms against 62).

Measured on a 2-core machine: Django's view answered in 63.8 ms (known) and
11.8 ms (unknown); this one in 10.0 and 9.2 ms, the medians 1 to 4 ms apart
either way from run to run. With an instant transport Django's view was
13.2 against 11.7 ms: the mail server's round trip is the leak.

Registration says when an address is taken (the contract's `errors.email`),
so attempts are limited per address as well as per client IP: many
addresses cannot take turns probing one.
"""

import http.cookiejar
import logging
import re
import statistics
import time
import urllib.request

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from pytest_django.asserts import assertContains

from accounts import tasks
from accounts.tests.factories import UserFactory
from core.testing import assert_problem
from shopswift.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)

logger = logging.getLogger(__name__)

PASSWORD_RESET_PAGE = "/accounts/password_reset/"
SMTP_DELAY = 0.05
TRIES = 25  # of each: known and unknown addresses, taken in turns
BOUND = 0.010  # seconds between the medians


class SlowSMTPBackend(EmailBackend):
    """Django's test outbox, handed e-mails as slowly as a remote SMTP server."""

    def send_messages(self, messages):
        time.sleep(SMTP_DELAY * len(messages))
        return super().send_messages(messages)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirects(),
        )
        page = self.opener.open(base_url + PASSWORD_RESET_PAGE).read().decode()
        self.csrf_token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', page
        ).group(1)

    def ask_for_a_reset(self, email, client_ip):
        """Post the form; return (status, Location, body, seconds to the answer)."""
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.csrf_token, "email": email}
        ).encode()
        request = urllib.request.Request(
            self.base_url + PASSWORD_RESET_PAGE,
            data=data,
            headers={"X-Real-IP": client_ip, "Referer": self.base_url},
        )
        started = time.perf_counter()
        try:
            response = self.opener.open(request)
        except urllib.error.HTTPError as answer:
            response = answer
        body = response.read()
        elapsed = time.perf_counter() - started
        return response.status, response.headers["Location"], body, elapsed


@pytest.fixture
def slow_mail(settings):
    settings.MAILERS = {
        "default": {"BACKEND": f"{__name__}.{SlowSMTPBackend.__qualname__}"}
    }


@pytest.fixture
def browser(live_server, settings, slow_mail):
    # Every try from its own client address, below the per-IP limit.
    settings.RATELIMIT_CLIENT_IP_HEADER = "X-Real-IP"
    return Browser(live_server.url)


def wait_for_outbox(count, timeout=10):
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(mail.outbox)


def test_a_reset_request_is_answered_alike_and_as_fast_for_known_and_unknown(
    browser,
):
    UserFactory(email="known@example.com")
    browser.ask_for_a_reset("warm-up@example.com", "192.0.2.250")
    known, unknown = [], []

    for attempt in range(TRIES):
        known.append(browser.ask_for_a_reset("known@example.com", f"10.1.{attempt}.1"))
        unknown.append(
            browser.ask_for_a_reset(f"nobody{attempt}@example.com", f"10.2.{attempt}.1")
        )

    answers = {(status, location, body) for status, location, body, _ in known}
    answers |= {(status, location, body) for status, location, body, _ in unknown}
    known_median = statistics.median(answer[3] for answer in known)
    unknown_median = statistics.median(answer[3] for answer in unknown)
    # Shown with --log-cli-level=INFO, to compare runs.
    logger.info(
        "Password reset answered in %.1f ms for a known address and %.1f ms "
        "for an unknown one (medians of %d each)",
        known_median * 1000,
        unknown_median * 1000,
        TRIES,
    )
    assert answers == {(302, PASSWORD_RESET_PAGE + "done/", b"")}
    assert abs(known_median - unknown_median) < BOUND
    # The e-mails still go out, after the answers.
    assert wait_for_outbox(TRIES) == TRIES
    assert {tuple(message.to) for message in mail.outbox} == {("known@example.com",)}


@pytest.mark.django_db
def test_with_a_broker_the_answer_reads_nothing_and_the_worker_sends_the_link(
    client, django_assert_num_queries, monkeypatch
):
    UserFactory(email="known@example.com")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    with django_assert_num_queries(0):
        response = client.post(PASSWORD_RESET_PAGE, {"email": "KNOWN@example.com"})
    with celery_app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    args, kwargs, _ = message.payload
    tasks.send_password_reset(*args, **kwargs)

    assert response.status_code == 302
    assert message.headers["task"] == "accounts.tasks.send_password_reset"
    assert kwargs == {
        "email": "KNOWN@example.com",
        "domain": "testserver",
        "use_https": False,
    }
    assert [message.to for message in mail.outbox] == [["known@example.com"]]
    assert "http://testserver/accounts/reset/" in mail.outbox[0].body


# --- Registration ---------------------------------------------------------------------


def register(api_client, email, ip):
    return api_client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": "a-fine-passphrase"},
        format="json",
        REMOTE_ADDR=ip,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("ratelimit_clock")
def test_probing_one_address_from_many_ips_is_throttled(api_client, client):
    UserFactory(email="victim@example.com")
    probes = [
        register(api_client, "Victim@example.com", f"10.3.0.{number}")
        for number in range(1, 6)
    ]

    api = register(api_client, "victim@example.com", "10.3.0.6")
    page = client.post(
        "/accounts/register/",
        {
            "email": "victim@example.com",
            "password1": "a-fine-passphrase",
            "password2": "a-fine-passphrase",
        },
        REMOTE_ADDR="10.3.0.7",
    )
    other_address = register(api_client, "someone@example.com", "10.3.0.8")

    for probe in probes:
        assert_problem(probe, 400, "validation_error")
    body = assert_problem(api, 429, "throttled")
    assert body["detail"].startswith(
        "Too many registration attempts for this email address."
    )
    assertContains(
        page,
        "Too many registration attempts for this email address.",
        status_code=429,
    )
    assert other_address.status_code == 201
