"""Changing the login e-mail: no account enumeration, no silent takeover.

The attacks (issue 15, finding 4 in part, and 3): `PATCH users/me/` with
someone else's address said whether it had an account, as often as asked;
and a stolen session could move the account to the thief's address at once.
Now a new address needs the current password, applies only once confirmed
from a link sent to it, and the answer is the same whether the address is
free or taken (its owner gets a notice instead of a link). Attempts are
limited per user (RATELIMIT_EMAIL_CHANGE).
"""

import re

import pytest
from django.core import mail
from django.test import Client
from pytest_django.asserts import assertContains

from accounts.models import User
from accounts.tests.clock import ratelimit_clock  # noqa: F401
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.testing import assert_problem
from tests.security.conftest import bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
ACCOUNT = "/account/"


@pytest.fixture(autouse=True)
def _store_url(settings):
    settings.STORE_URL = "https://shop.example.com"


@pytest.fixture
def bob():
    return UserFactory(email="bob@example.com")


def ask_to_change(client, email, password=DEFAULT_PASSWORD):
    return client.patch(
        ME, {"email": email, "current_password": password}, format="json"
    )


def confirm_link(message):
    return re.search(r"https://shop\.example\.com(/account/email/\S+/)", message.body)[
        1
    ]


def test_a_taken_and_a_free_address_get_the_same_answer_from_the_api(
    alice, bob, django_capture_on_commit_callbacks
):
    client = bearer(alice)

    with django_capture_on_commit_callbacks(execute=True):
        taken = ask_to_change(client, "BOB@example.com")
        free = ask_to_change(client, "nobody@example.com")

    assert (taken.status_code, free.status_code) == (200, 200)
    assert taken["Content-Type"] == free["Content-Type"]
    taken_body, free_body = taken.json(), free.json()
    assert taken_body.pop("pending_email") == "bob@example.com"
    assert free_body.pop("pending_email") == "nobody@example.com"
    assert taken_body == free_body
    assert taken_body["email"] == "alice@example.com"
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_taken_and_a_free_address_get_the_same_answer_from_the_account_page(
    alice, bob, client
):
    client.force_login(alice)
    form = {
        "first_name": "Alice",
        "last_name": "",
        "current_password": DEFAULT_PASSWORD,
    }

    taken = client.post(ACCOUNT, {**form, "email": "bob@example.com"}, follow=True)
    free = client.post(ACCOUNT, {**form, "email": "nobody@example.com"}, follow=True)

    assert taken.redirect_chain == free.redirect_chain == [(ACCOUNT, 302)]
    assert [str(m) for m in taken.context["messages"]] == [
        "Your details are saved. To change your email address, open the link "
        "we sent to bob@example.com."
    ]
    assert [str(m) for m in free.context["messages"]] == [
        "Your details are saved. To change your email address, open the link "
        "we sent to nobody@example.com."
    ]
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_the_owner_of_a_taken_address_gets_a_notice_without_a_link(
    alice, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask_to_change(bearer(alice), "bob@example.com")

    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["bob@example.com"], "Someone tried to use your email address at ShopSwift")
    ]
    assert "/account/email/" not in mail.outbox[0].body
    assert "alice" not in mail.outbox[0].body


def test_a_free_address_gets_a_link_and_nothing_changes_until_it_is_opened(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask_to_change(bearer(alice), "alice.new@example.com")

    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["alice.new@example.com"], "Confirm your new ShopSwift email address")
    ]
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_a_stolen_access_token_cannot_change_the_email_without_the_password(alice):
    client = bearer(alice)

    missing = client.patch(ME, {"email": "thief@example.com"}, format="json")
    wrong = ask_to_change(client, "thief@example.com", password="guess")

    assert assert_problem(missing, 400, "validation_error")["errors"] == {
        "current_password": ["Enter your current password to change your email."]
    }
    assert assert_problem(wrong, 400, "validation_error")["errors"] == {
        "current_password": ["Your current password is incorrect."]
    }
    assert mail.outbox == []


@pytest.mark.usefixtures("ratelimit_clock")
def test_wrong_passwords_for_an_email_change_count_as_failed_logins(alice, settings):
    settings.RATELIMIT_LOGIN = "2/m"
    client = bearer(alice)

    answers = [
        ask_to_change(client, "thief@example.com", password="guess").status_code
        for _ in range(3)
    ]
    right = ask_to_change(client, "thief@example.com")

    assert answers == [400, 400, 429]
    assert_problem(right, 429, "throttled")


@pytest.mark.usefixtures("ratelimit_clock")
def test_email_change_attempts_are_limited_per_user(alice, mallory, settings):
    settings.RATELIMIT_EMAIL_CHANGE = "3/h"
    client = bearer(alice)

    answers = [
        ask_to_change(client, f"probe{n}@example.com").status_code for n in range(4)
    ]
    names_only = client.patch(ME, {"first_name": "Al"}, format="json")
    someone_else = ask_to_change(bearer(mallory), "probe@example.com")

    assert answers == [200, 200, 200, 429]
    assert names_only.status_code == 200
    assert someone_else.status_code == 200


@pytest.mark.usefixtures("ratelimit_clock")
def test_the_account_page_limits_email_change_attempts_too(alice, client, settings):
    settings.RATELIMIT_EMAIL_CHANGE = "1/h"
    client.force_login(alice)
    form = {"first_name": "A", "last_name": "", "current_password": DEFAULT_PASSWORD}

    first = client.post(ACCOUNT, {**form, "email": "probe1@example.com"})
    second = client.post(ACCOUNT, {**form, "email": "probe2@example.com"})

    assert first.status_code == 302
    assert second.status_code == 429
    assert second["Retry-After"]
    assertContains(second, "Too many email address changes", status_code=429)


# --- The link ------------------------------------------------------------------------


def requested_link(user, email, capture):
    with capture(execute=True):
        ask_to_change(bearer(user), email)
    return confirm_link(mail.outbox.pop())


def test_opening_the_link_asks_before_it_changes_anything(
    alice, django_capture_on_commit_callbacks
):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )

    page = Client().get(link)

    assert page.status_code == 200
    assertContains(page, "alice.new@example.com")
    assertContains(page, '<button type="submit">Use this email address</button>')
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_the_link_works_once(alice, django_capture_on_commit_callbacks):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )
    Client().post(link)

    again = Client().post(link)

    assert again.status_code == 400
    assertContains(again, "This link no longer works", status_code=400)


def test_a_tampered_link_changes_nothing(alice, django_capture_on_commit_callbacks):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )
    tampered = link.replace("/confirm/", "/confirm/x")

    response = Client().post(tampered)

    assertContains(response, "This link no longer works", status_code=400)
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_an_expired_link_changes_nothing(
    alice, django_capture_on_commit_callbacks, settings
):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )
    # The link lasts as long as a password-reset link.
    settings.PASSWORD_RESET_TIMEOUT = -1

    response = Client().post(link)

    assertContains(response, "This link no longer works", status_code=400)
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_a_password_change_kills_a_pending_link(
    alice, django_capture_on_commit_callbacks
):
    # A thief who knew the password asked to move the account to their address;
    # the owner changes the password before the thief opens the link.
    link = requested_link(
        alice, "thief@example.com", django_capture_on_commit_callbacks
    )
    bearer(alice).post(
        "/api/v1/users/me/password/",
        {"current_password": DEFAULT_PASSWORD, "new_password": "a-new-passphrase"},
        format="json",
    )

    response = Client().post(link)

    assertContains(response, "This link no longer works", status_code=400)
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_an_address_taken_meanwhile_is_refused_when_the_link_is_opened(
    alice, django_capture_on_commit_callbacks
):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )
    UserFactory(email="Alice.New@example.com")

    response = Client().post(link)

    assertContains(
        response,
        "alice.new@example.com now belongs to another account",
        status_code=400,
    )
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_the_link_keeps_the_browser_that_opens_it_logged_in(
    alice, client, django_capture_on_commit_callbacks
):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )
    client.force_login(alice)

    response = client.post(link, follow=True)

    assert response.redirect_chain == [(ACCOUNT, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Your email address is now alice.new@example.com."
    ]


def test_the_link_sends_a_logged_out_browser_to_log_in(
    alice, django_capture_on_commit_callbacks
):
    link = requested_link(
        alice, "alice.new@example.com", django_capture_on_commit_callbacks
    )

    response = Client().post(link)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
