"""A stolen refresh token or page session outlives no change of credentials.

The attack (issue 15, finding 3): whoever stole a refresh token keeps the
account after its owner changes or resets the password. Every password
change (the API, the account page, the reset link, the admin), every e-mail
change and "sign out everywhere" blacklist all of the user's refresh tokens
(401 `authentication_failed` when used) and end the user's other page
sessions; the owner is told at the address the account had.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory
from core.testing import assert_problem
from tests.security.conftest import bearer

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/token/refresh/"
ACCOUNT = "/account/"
NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture(autouse=True)
def _store_url(settings):
    settings.STORE_URL = "https://shop.example.com"


def refresh_with(token):
    return Client().post(REFRESH, {"refresh": token}, content_type="application/json")


def browser_of(user):
    browser = Client()
    browser.force_login(user)
    return browser


def is_logged_in(browser):
    return browser.get(ACCOUNT).status_code == 200


# --- The ways a password changes -----------------------------------------------------


def through_the_api(user):
    bearer(user).post(
        "/api/v1/users/me/password/",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )


def on_the_account_page(user):
    browser_of(user).post(
        "/account/password/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )


def with_a_reset_link(user):
    browser = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    form_page = browser.get(f"/accounts/reset/{uid}/{token}/", follow=True)
    response = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content


def user_manager():
    """Staff who may change users in the admin (customers only, by the rule)."""
    manager = StaffFactory(email="manager@example.com")
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    return browser_of(manager)


def by_staff_in_the_admin(user):
    response = user_manager().post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content


def on_the_admins_own_password_page(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    response = browser_of(user).post(
        reverse("admin:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content


PASSWORD_CHANGES = [
    through_the_api,
    on_the_account_page,
    with_a_reset_link,
    by_staff_in_the_admin,
    on_the_admins_own_password_page,
]


@pytest.mark.parametrize("change", PASSWORD_CHANGES, ids=lambda change: change.__name__)
def test_a_password_change_revokes_every_refresh_token_issued_before(
    alice, change, django_capture_on_commit_callbacks
):
    stolen = [str(RefreshToken.for_user(alice)) for _ in range(2)]

    with django_capture_on_commit_callbacks(execute=True):
        change(alice)

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    for token in stolen:
        assert_problem(refresh_with(token), 401, "authentication_failed")
    # Logging in again works: only what was issued before is revoked.
    fresh = str(RefreshToken.for_user(alice))
    assert refresh_with(fresh).status_code == 200


@pytest.mark.parametrize("change", PASSWORD_CHANGES, ids=lambda change: change.__name__)
def test_a_password_change_ends_the_other_page_sessions(alice, change):
    thief = browser_of(alice)

    change(alice)

    assert not is_logged_in(thief)


@pytest.mark.parametrize("change", PASSWORD_CHANGES, ids=lambda change: change.__name__)
def test_a_password_change_is_notified_to_the_accounts_address(
    alice, change, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change(alice)

    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["alice@example.com"], "Your ShopSwift password was changed")
    ]
    body = mail.outbox[0].body
    assert "If this wasn't you" in body
    assert "https://shop.example.com/accounts/password_reset/" in body


def test_someone_elses_password_change_leaves_your_tokens_alone(alice, mallory):
    yours = str(RefreshToken.for_user(mallory))

    through_the_api(alice)

    assert refresh_with(yours).status_code == 200


# --- The ways an e-mail address changes ----------------------------------------------


def confirm_link(message):
    return re.search(r"https://shop\.example\.com(/account/email/\S+/)", message.body)[
        1
    ]


def by_the_owner_with_a_link(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = bearer(user).patch(
            "/api/v1/users/me/",
            {"email": "alice.new@example.com", "current_password": DEFAULT_PASSWORD},
            format="json",
        )
    assert response.status_code == 200, response.content
    link = confirm_link(mail.outbox.pop())
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(link)
    assert response.status_code == 302, response.content


def by_staff_through_the_api(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = bearer(StaffFactory()).patch(
            f"/api/v1/users/{user.pk}/",
            {"email": "alice.new@example.com"},
            format="json",
        )
    assert response.status_code == 200, response.content


def by_staff_in_the_admin_form(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_manager().post(
            reverse("admin:accounts_user_change", args=[user.pk]),
            {
                "email": "alice.new@example.com",
                "first_name": user.first_name,
                "last_name": user.last_name,
                "is_active": "on",
                "_save": "Save",
            },
        )
    assert response.status_code == 302, response.content


EMAIL_CHANGES = [
    by_the_owner_with_a_link,
    by_staff_through_the_api,
    by_staff_in_the_admin_form,
]


@pytest.mark.parametrize("change", EMAIL_CHANGES, ids=lambda change: change.__name__)
def test_an_email_change_revokes_tokens_ends_sessions_and_tells_the_old_address(
    alice, change, django_capture_on_commit_callbacks
):
    stolen = str(RefreshToken.for_user(alice))
    thief = browser_of(alice)

    change(alice, django_capture_on_commit_callbacks)

    alice.refresh_from_db()
    assert alice.email == "alice.new@example.com"
    assert_problem(refresh_with(stolen), 401, "authentication_failed")
    assert not is_logged_in(thief)
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["alice@example.com"], "Your ShopSwift email address was changed")
    ]
    body = mail.outbox[0].body
    assert "a***@example.com" in body
    assert "alice.new@example.com" not in body
    assert "If this wasn't you" in body


# --- Sign out everywhere -------------------------------------------------------------


def test_sign_out_everywhere_on_the_account_page_ends_every_other_session(alice):
    stolen = [str(RefreshToken.for_user(alice)) for _ in range(2)]
    thief = browser_of(alice)
    owner = browser_of(alice)

    response = owner.post("/account/sign-out-everywhere/")

    assert response.status_code == 302
    assert response["Location"] == ACCOUNT
    for token in stolen:
        assert_problem(refresh_with(token), 401, "authentication_failed")
    assert not is_logged_in(thief)
    # The browser that asked stays logged in.
    assert is_logged_in(owner)


def test_sign_out_everywhere_refuses_get_and_a_missing_csrf_token(alice):
    stolen = str(RefreshToken.for_user(alice))
    owner = Client(enforce_csrf_checks=True)
    owner.force_login(alice)

    got = owner.get("/account/sign-out-everywhere/")
    forged = owner.post("/account/sign-out-everywhere/")

    assert got.status_code == 405
    assert forged.status_code == 403
    assert refresh_with(stolen).status_code == 200


def test_logout_all_through_the_api_revokes_every_refresh_token(alice):
    stolen = [str(RefreshToken.for_user(alice)) for _ in range(2)]
    thief = browser_of(alice)

    response = bearer(alice).post("/api/v1/users/me/logout-all/")

    assert response.status_code == 204
    for token in stolen:
        assert_problem(refresh_with(token), 401, "authentication_failed")
    assert not is_logged_in(thief)


def test_logout_all_leaves_other_users_alone(alice, mallory):
    yours = str(RefreshToken.for_user(mallory))
    your_browser = browser_of(mallory)

    bearer(alice).post("/api/v1/users/me/logout-all/")

    assert refresh_with(yours).status_code == 200
    assert is_logged_in(your_browser)
    assert User.objects.get(pk=mallory.pk).is_active is True


def test_logout_all_needs_authentication(api_client):
    response = api_client.post("/api/v1/users/me/logout-all/")

    assert_problem(response, 401, "not_authenticated")
