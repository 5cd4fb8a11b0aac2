"""The shopper's account pages, through Django's test client."""

import logging
import re

import pytest
from django.contrib.auth import SESSION_KEY, authenticate
from django.core import mail
from kombu.exceptions import OperationalError
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts import tasks
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/accounts/register/"
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
PASSWORD_RESET = "/accounts/password_reset/"
ACCOUNT = "/account/"
ACCOUNT_PASSWORD = "/account/password/"
NEW_PASSWORD = "a-brand-new-passphrase"
MISMATCH = "The two password fields didn\N{RIGHT SINGLE QUOTATION MARK}t match."


def logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


def field_errors(response, form_name, field):
    return response.context[form_name].errors.get(field, [])


def label(response, text, field_id):
    """Assert a <label> with exactly this text names the field."""
    assertContains(response, f'<label for="{field_id}">{text}</label>', html=True)


# --- Register -----------------------------------------------------------------------


def test_register_page_has_the_contracts_labels_and_button(client):
    response = client.get(REGISTER)

    assert response.status_code == 200
    label(response, "Email", "id_email")
    label(response, "Password", "id_password1")
    label(response, "Password confirmation", "id_password2")
    assertContains(response, '<button type="submit">Register</button>', html=True)


def test_register_creates_the_account_logs_in_and_goes_home(client):
    response = client.post(
        REGISTER,
        {
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-42",
        },
    )

    assertRedirects(response, "/", fetch_redirect_response=False)
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert (user.first_name, user.last_name, user.is_staff) == (
        "Ada",
        "Lovelace",
        False,
    )
    assert logged_in_user_id(client) == str(user.pk)


def test_register_goes_on_to_a_safe_next_page(client):
    response = client.post(
        f"{REGISTER}?next=/checkout/",
        {
            "email": "ada@example.com",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-42",
        },
    )

    assertRedirects(response, "/checkout/", fetch_redirect_response=False)


def test_register_ignores_a_next_page_on_another_site(client):
    response = client.post(
        REGISTER,
        {
            "email": "ada@example.com",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-42",
            "next": "https://evil.example.net/",
        },
    )

    assertRedirects(response, "/", fetch_redirect_response=False)


def test_register_shows_mismatched_passwords_beside_the_confirmation(client):
    response = client.post(
        REGISTER,
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-43",
        },
    )

    assert response.status_code == 200
    assert field_errors(response, "form", "password2") == [MISMATCH]
    assertContains(response, 'value="ada@example.com"')
    assertContains(response, 'value="Ada"')
    assert not User.objects.exists()


def test_register_shows_a_taken_email_beside_the_email_field(client):
    UserFactory(email="ada@example.com")

    response = client.post(
        REGISTER,
        {
            "email": "ADA@example.com",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-42",
        },
    )

    assert response.status_code == 200
    assert field_errors(response, "form", "email") == [
        "An account with this email address already exists."
    ]
    assertContains(response, "An account with this email address already exists.")
    assertContains(response, 'value="ADA@example.com"')
    assert logged_in_user_id(client) is None


def test_register_shows_password_validator_errors_beside_the_password(client):
    response = client.post(
        REGISTER,
        {"email": "ada@example.com", "password1": "12345", "password2": "12345"},
    )

    assert response.status_code == 200
    assert field_errors(response, "form", "password1") == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert not User.objects.exists()


def test_a_logged_in_shopper_visiting_register_goes_to_their_account(client):
    client.force_login(UserFactory())

    response = client.get(REGISTER)

    assertRedirects(response, ACCOUNT, fetch_redirect_response=False)


# --- Log in and out -------------------------------------------------------------------


def test_login_page_has_the_contracts_labels_and_button(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    label(response, "Email", "id_username")
    label(response, "Password", "id_password")
    assertContains(response, '<button type="submit">Log in</button>', html=True)
    assertContains(response, 'href="/accounts/password_reset/"')


def test_login_logs_in_and_returns_to_next(client):
    user = UserFactory(email="ada@example.com")

    response = client.post(
        f"{LOGIN}?next=/cart/",
        {"username": "ADA@example.com", "password": DEFAULT_PASSWORD},
    )

    assertRedirects(response, "/cart/", fetch_redirect_response=False)
    assert logged_in_user_id(client) == str(user.pk)


def test_login_keeps_next_through_the_form(client):
    response = client.get(f"{LOGIN}?next=/orders/ABC/")

    assertContains(response, '<input type="hidden" name="next" value="/orders/ABC/">')


@pytest.mark.parametrize(
    "next_page", ["https://evil.example.net/", "//evil.example.net/", "javascript:x"]
)
def test_login_never_redirects_off_site(client, next_page):
    UserFactory(email="ada@example.com")

    response = client.post(
        LOGIN,
        {
            "username": "ada@example.com",
            "password": DEFAULT_PASSWORD,
            "next": next_page,
        },
    )

    assertRedirects(response, "/", fetch_redirect_response=False)


def test_a_wrong_password_re_renders_the_form_keeping_the_email(client):
    UserFactory(email="ada@example.com")

    response = client.post(LOGIN, {"username": "ada@example.com", "password": "nope"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct email and password. Note that both fields may be "
        "case-sensitive."
    ]
    assertContains(response, 'value="ada@example.com"')
    assert logged_in_user_id(client) is None


def test_login_names_a_missing_password_beside_its_field(client):
    response = client.post(LOGIN, {"username": "ada@example.com"})

    assert response.status_code == 200
    assert field_errors(response, "form", "password") == ["This field is required."]


def test_a_deactivated_user_cannot_log_in(client):
    UserFactory(email="gone@example.com", is_active=False)

    response = client.post(
        LOGIN, {"username": "gone@example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert logged_in_user_id(client) is None


def test_logout_is_a_post_that_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post(LOGOUT)

    assertRedirects(response, "/", fetch_redirect_response=False)
    assert logged_in_user_id(client) is None


def test_logout_refuses_get(client):
    client.force_login(UserFactory())

    response = client.get(LOGOUT)

    assert response.status_code == 405
    assert logged_in_user_id(client) is not None


def test_header_offers_log_in_and_register_when_logged_out(client):
    response = client.get("/")

    assertContains(response, '<a href="/accounts/login/?next=/">Log in</a>', html=True)
    assertContains(response, '<a href="/accounts/register/">Register</a>', html=True)
    assertNotContains(response, "Log out")


def test_header_offers_the_account_and_log_out_when_logged_in(client):
    client.force_login(UserFactory())

    response = client.get("/")

    assertContains(response, '<a href="/account/">Account</a>', html=True)
    assertContains(response, 'action="/accounts/logout/"')
    assertContains(response, "csrfmiddlewaretoken")
    assertContains(response, "Log out</button>")
    assertNotContains(response, ">Log in</a>")


def test_csrf_protects_the_login_form(client):
    UserFactory(email="ada@example.com")
    client.handler.enforce_csrf_checks = True

    response = client.post(
        LOGIN, {"username": "ada@example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 403
    assert logged_in_user_id(client) is None


# --- Account page ---------------------------------------------------------------------


def test_the_account_page_needs_a_login(client):
    response = client.get(ACCOUNT)

    assertRedirects(response, "/accounts/login/?next=/account/")


def test_the_account_page_shows_the_profile_and_password_forms(client):
    client.force_login(UserFactory(email="ada@example.com", first_name="Ada"))

    response = client.get(ACCOUNT)

    assert response.status_code == 200
    assertContains(response, 'value="ada@example.com"')
    assertContains(response, 'value="Ada"')
    label(response, "Current password", "id_current_password")
    label(response, "New password", "id_new_password1")


def test_the_account_page_saves_the_names(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)

    response = client.post(
        ACCOUNT,
        {"email": "ADA@example.com", "first_name": "Ada", "last_name": "King"},
        follow=True,
    )

    assert response.redirect_chain == [(ACCOUNT, 302)]
    assertContains(response, "Your details are saved.")
    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name) == (
        "ada@example.com",
        "Ada",
        "King",
    )


def test_the_account_page_changes_the_email_once_its_link_is_opened(
    client, django_capture_on_commit_callbacks, settings
):
    settings.STORE_URL = "https://shop.example.com"
    user = UserFactory(email="ada@example.com")
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(
            ACCOUNT,
            {
                "email": "Ada.King@Example.com",
                "first_name": "Ada",
                "last_name": "",
                "current_password": DEFAULT_PASSWORD,
            },
        )
    link = re.search(
        r"https://shop\.example\.com(/account/email/\S+/)", mail.outbox[0].body
    )[1]
    unchanged = User.objects.get(pk=user.pk).email
    confirm_page = client.get(link)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(link, follow=True)

    assertRedirects(asked, ACCOUNT)
    assert unchanged == "ada@example.com"
    assertContains(confirm_page, "ada.king@example.com")
    assert confirmed.redirect_chain == [(ACCOUNT, 302)]
    assertContains(confirmed, "Your email address is now ada.king@example.com.")
    assertContains(confirmed, 'value="ada.king@example.com"')


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Enter your current password to change your email."),
        ("wrong", "Your current password is incorrect."),
    ],
)
def test_a_new_email_without_the_password_shows_the_error_beside_the_field(
    client, password, message
):
    user = UserFactory(email="ada@example.com", first_name="Ada")
    client.force_login(user)

    response = client.post(
        ACCOUNT,
        {
            "email": "new@example.com",
            "first_name": "Eve",
            "last_name": "",
            "current_password": password,
        },
    )

    assert response.status_code == 200
    assert field_errors(response, "profile_form", "current_password") == [message]
    assertContains(response, 'value="new@example.com"')
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("ada@example.com", "Ada")


def test_the_account_page_offers_to_sign_out_everywhere(client):
    client.force_login(UserFactory())

    response = client.get(ACCOUNT)

    assertContains(
        response, '<button type="submit">Sign out everywhere else</button>', html=True
    )


def test_signing_out_everywhere_keeps_this_session_and_says_so(client):
    client.force_login(UserFactory())

    response = client.post("/account/sign-out-everywhere/", follow=True)

    assert response.redirect_chain == [(ACCOUNT, 302)]
    assertContains(
        response,
        "You are logged out everywhere else: other browsers and apps must log in "
        "again.",
    )


def test_changing_the_password_keeps_this_session(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)

    response = client.post(
        ACCOUNT_PASSWORD,
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assertRedirects(response, ACCOUNT)
    assert authenticate(email="ada@example.com", password=NEW_PASSWORD) == user
    assert client.get(ACCOUNT).status_code == 200


def test_changing_the_password_ends_other_sessions(client, django_user_model):
    user = UserFactory(email="ada@example.com")
    other_browser = client.__class__()
    other_browser.force_login(user)
    client.force_login(user)

    client.post(
        ACCOUNT_PASSWORD,
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert other_browser.get(ACCOUNT).status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"current_password": "wrong", "new_password1": NEW_PASSWORD},
            "current_password",
            "Your current password is incorrect.",
        ),
        (
            {"current_password": DEFAULT_PASSWORD, "new_password1": "short"},
            "new_password1",
            "This password is too short. It must contain at least 8 characters.",
        ),
        (
            {
                "current_password": DEFAULT_PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD + "x",
            },
            "new_password2",
            MISMATCH,
        ),
    ],
    ids=["wrong-current", "too-short", "mismatch"],
)
def test_a_bad_password_change_shows_the_error_beside_the_field(
    client, data, field, message
):
    user = UserFactory()
    client.force_login(user)
    data.setdefault("new_password2", data["new_password1"])

    response = client.post(ACCOUNT_PASSWORD, data)

    assert response.status_code == 200
    assert field_errors(response, "password_form", field) == [message]
    assertContains(response, message)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


# --- Password reset -------------------------------------------------------------------


def reset_link(message):
    return re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)


def test_password_reset_page_asks_for_the_email(client):
    response = client.get(PASSWORD_RESET)

    assert response.status_code == 200
    label(response, "Email", "id_email")


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    user = UserFactory(email="ada@example.com")

    response = client.post(PASSWORD_RESET, {"email": "ADA@example.com"})

    assertRedirects(response, "/accounts/password_reset/done/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your ShopSwift password"
    form_page = client.get(reset_link(message), follow=True)
    assertContains(form_page, "Choose a new password")
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assertRedirects(done, "/accounts/reset/done/")
    assert authenticate(email="ada@example.com", password=NEW_PASSWORD) == user


def test_a_password_reset_email_leaves_one_masked_log_line(client, caplog):
    UserFactory(email="ada@example.com")

    with caplog.at_level("INFO", logger="core.mail"):
        client.post(PASSWORD_RESET, {"email": "ada@example.com"})

    lines = [r.getMessage() for r in caplog.records if r.name == "core.mail"]
    assert lines == ["E-mail password_reset to a***@example.com"]
    assert "ada@example.com" not in caplog.text


def test_a_used_reset_link_no_longer_works(client):
    UserFactory(email="ada@example.com")
    client.post(PASSWORD_RESET, {"email": "ada@example.com"})
    link = reset_link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    response = client.get(link, follow=True)

    assertContains(response, "This link no longer works")


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post(PASSWORD_RESET, {"email": "nobody@example.com"})

    assertRedirects(response, "/accounts/password_reset/done/")
    assert mail.outbox == []


def test_a_reset_request_answers_first_and_logs_an_email_it_could_not_queue(
    client, caplog, monkeypatch
):
    def broker_away(**kwargs):
        raise OperationalError("Error 111 connecting to broker:6379.")

    monkeypatch.setattr(tasks.send_password_reset, "delay", broker_away)

    with caplog.at_level(logging.ERROR, logger="accounts.views"):
        response = client.post(PASSWORD_RESET, {"email": "ada@example.com"})

    assertRedirects(response, "/accounts/password_reset/done/")
    errors = [r.getMessage() for r in caplog.records if r.name == "accounts.views"]
    assert errors == ["The work that follows a /accounts/password_reset/done/ failed"]


def test_password_reset_shows_a_malformed_email_beside_the_field(client):
    response = client.post(PASSWORD_RESET, {"email": "not-an-email"})

    assert response.status_code == 200
    assert field_errors(response, "form", "email") == ["Enter a valid email address."]
    assertContains(response, 'value="not-an-email"')


# --- Never a password hash ------------------------------------------------------------


def test_no_page_contains_a_password_hash(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)

    pages = [client.get(path) for path in ["/", ACCOUNT]]
    pages.append(client.post(ACCOUNT, {"email": "bad"}))

    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert user.password not in text
        assert user.password.rsplit("$", 1)[-1] not in text
