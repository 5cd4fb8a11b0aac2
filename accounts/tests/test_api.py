"""The contract's Auth and Users tables, through DRF's APIClient."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    StaffFactory,
    SuperuserFactory,
    UserFactory,
)
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/users/me/"
ME_PASSWORD = "/api/v1/users/me/password/"
USERS = "/api/v1/users/"
NEW_PASSWORD = "a-brand-new-passphrase"


def user_url(user):
    return f"{USERS}{user.pk}/"


def bearer(client, user):
    """Authenticate the client's next requests as the user, with an access JWT."""
    access = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def representation(user):
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_staff": user.is_staff,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def log_in(client, email, password=DEFAULT_PASSWORD):
    return client.post(TOKEN, {"email": email, "password": password}, format="json")


# --- POST auth/register/ --------------------------------------------------------------


def test_register_creates_a_customer_and_answers_201_with_the_user(api_client):
    response = api_client.post(
        REGISTER,
        {
            "email": "Ada@Example.com",
            "password": "analytical-engine-42",
            "first_name": "Ada",
            "last_name": "Lovelace",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert response.json() == representation(user)
    assert user.email == "ada@example.com"
    assert user.first_name == "Ada"
    assert user.is_staff is False
    assert user.check_password("analytical-engine-42")


def test_register_needs_only_email_and_password(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "grace@example.com", "password": "compiler-pioneer-1952"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["first_name"] == ""
    assert response.json()["last_name"] == ""


def test_register_never_makes_staff_whatever_is_sent(api_client):
    response = api_client.post(
        REGISTER,
        {
            "email": "mallory@example.com",
            "password": "sneaky-escalation-99",
            "is_staff": True,
            "is_superuser": True,
        },
        format="json",
    )

    assert response.status_code == 201
    user = User.objects.get(email="mallory@example.com")
    assert response.json()["is_staff"] is False
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_register_refuses_an_email_taken_in_another_case(api_client):
    UserFactory(email="grace@example.com")

    response = api_client.post(
        REGISTER,
        {"email": "GRACE@example.com", "password": "compiler-pioneer-1952"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "email": ["An account with this email address already exists."]
    }
    assert User.objects.count() == 1


def test_register_applies_the_password_validators(api_client):
    response = api_client.post(
        REGISTER, {"email": "new@example.com", "password": "1234"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "password": [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]
    }
    assert not User.objects.exists()


def test_register_refuses_a_password_like_the_email(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "margaret.hamilton@example.com", "password": "margaret.hamilton"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"]["password"] == ["The password is too similar to the email."]


def test_register_reports_a_taken_email_and_a_weak_password_together(api_client):
    UserFactory(email="grace@example.com")

    response = api_client.post(
        REGISTER, {"email": "grace@example.com", "password": "password"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"email", "password"}


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"email", "password"}),
        ({"email": "not-an-email", "password": "long-enough-pass"}, {"email"}),
        ({"email": "a@example.com", "password": ""}, {"password"}),
        ({"email": "a@example.com", "password": 12345678901}, {"password"}),
    ],
    ids=["missing", "malformed-email", "blank-password", "number"],
)
def test_register_names_each_bad_field(api_client, payload, errors):
    response = api_client.post(REGISTER, payload, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == errors


# --- POST auth/token/ -----------------------------------------------------------------


def test_token_pair_for_the_right_email_and_password(api_client):
    user = UserFactory(email="linus@example.com")

    response = log_in(api_client, "LINUS@example.com")

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    assert AccessToken(tokens["access"])["user_id"] == str(user.pk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get(ME).json()["email"] == "linus@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [("linus@example.com", "wrong-password"), ("nobody@example.com", DEFAULT_PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_token_refuses_wrong_credentials_with_401(api_client, email, password):
    UserFactory(email="linus@example.com")

    response = log_in(api_client, email, password)

    body = assert_problem(response, 401, "authentication_failed")
    assert body["detail"] == "No active account found with the given credentials"
    assert "access" not in body


def test_token_refuses_a_deactivated_user_with_401(api_client):
    UserFactory(email="gone@example.com", is_active=False)

    response = log_in(api_client, "gone@example.com")

    assert_problem(response, 401, "authentication_failed")


def test_token_without_a_password_is_400(api_client):
    response = api_client.post(TOKEN, {"email": "a@example.com"}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"password"}


# --- POST auth/token/refresh/ ---------------------------------------------------------


def test_refresh_returns_a_new_pair(api_client):
    user = UserFactory()
    refresh = RefreshToken.for_user(user)

    response = api_client.post(REFRESH, {"refresh": str(refresh)}, format="json")

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    assert tokens["refresh"] != str(refresh)
    assert AccessToken(tokens["access"])["user_id"] == str(user.pk)


def test_a_refresh_token_works_once_it_rotates(api_client):
    refresh = str(RefreshToken.for_user(UserFactory()))
    first = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    reused = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert first.status_code == 200
    body = assert_problem(reused, 401, "authentication_failed")
    assert body["detail"] == "Token is blacklisted"
    rotated = first.json()["refresh"]
    assert api_client.post(
        REFRESH, {"refresh": rotated}, format="json"
    ).status_code == (200)


@pytest.mark.parametrize(
    "token",
    [
        "not.a.jwt",
        "access",  # an access token is not a refresh token
        "tampered",
        "expired",
    ],
)
def test_refresh_refuses_a_bad_token_with_401(api_client, token):
    refresh = RefreshToken.for_user(UserFactory())
    if token == "access":
        token = str(refresh.access_token)
    elif token == "tampered":
        token = tamper(str(refresh))
    elif token == "expired":
        refresh.set_exp(lifetime=timedelta(seconds=-1))
        token = str(refresh)

    response = api_client.post(REFRESH, {"refresh": token}, format="json")

    assert_problem(response, 401, "authentication_failed")


def test_refresh_for_a_deleted_user_is_401(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert_problem(response, 401, "authentication_failed")


def test_refresh_for_a_deactivated_user_is_401(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert_problem(response, 401, "authentication_failed")


def test_refresh_without_a_token_is_400(api_client):
    response = api_client.post(REFRESH, {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"refresh"}


# --- POST auth/logout/ ----------------------------------------------------------------


def test_logout_revokes_the_refresh_token(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    bearer(api_client, user)

    response = api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    api_client.credentials()
    reused = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    assert_problem(reused, 401, "authentication_failed")


def test_logout_leaves_other_sessions_working(api_client):
    user = UserFactory()
    phone, laptop = str(RefreshToken.for_user(user)), str(RefreshToken.for_user(user))
    bearer(api_client, user)

    api_client.post(LOGOUT, {"refresh": phone}, format="json")

    api_client.credentials()
    assert api_client.post(REFRESH, {"refresh": laptop}, format="json").status_code == (
        200
    )


def test_logout_needs_an_access_token(api_client):
    refresh = str(RefreshToken.for_user(UserFactory()))

    response = api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_refuses_someone_elses_refresh_token(api_client):
    victim = UserFactory()
    victims_refresh = str(RefreshToken.for_user(victim))
    bearer(api_client, UserFactory())

    response = api_client.post(LOGOUT, {"refresh": victims_refresh}, format="json")

    assert_problem(response, 401, "authentication_failed")
    api_client.credentials()
    still = api_client.post(REFRESH, {"refresh": victims_refresh}, format="json")
    assert still.status_code == 200


def test_logout_twice_with_one_token_is_401(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    bearer(api_client, user)
    api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    response = api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    assert_problem(response, 401, "authentication_failed")


def test_logout_without_a_refresh_token_is_400(api_client):
    bearer(api_client, UserFactory())

    response = api_client.post(LOGOUT, {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"refresh"}


# --- Access tokens --------------------------------------------------------------------


def tamper(token):
    """Change one character of the payload, keeping the signature."""
    header, payload, signature = token.split(".")
    flipped = "A" if payload[10] != "A" else "B"
    return ".".join([header, payload[:10] + flipped + payload[11:], signature])


def test_an_access_token_signed_by_someone_else_is_401(api_client):
    user = UserFactory()
    access = RefreshToken.for_user(user).access_token
    forged = access.token_backend.__class__(
        access.token_backend.algorithm, signing_key="not-our-secret-key-" + "x" * 40
    ).encode(access.payload)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    response = api_client.get(ME)

    assert_problem(response, 401, "authentication_failed")


@pytest.mark.parametrize("kind", ["tampered", "expired", "refresh-as-access"])
def test_a_bad_access_token_is_401_authentication_failed(api_client, kind):
    refresh = RefreshToken.for_user(UserFactory())
    access = refresh.access_token
    if kind == "tampered":
        token = tamper(str(access))
    elif kind == "expired":
        access.set_exp(lifetime=timedelta(seconds=-1))
        token = str(access)
    else:
        token = str(refresh)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get(ME)

    assert_problem(response, 401, "authentication_failed")


def test_an_access_token_of_a_deleted_user_is_401(api_client):
    user = UserFactory()
    bearer(api_client, user)
    user.delete()

    response = api_client.get(ME)

    assert_problem(response, 401, "authentication_failed")


def test_an_access_token_of_a_deactivated_user_is_401(api_client):
    user = UserFactory()
    bearer(api_client, user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.get(ME)

    assert_problem(response, 401, "authentication_failed")


# --- GET, PATCH users/me/ -------------------------------------------------------------


def test_me_shows_the_callers_own_user(api_client):
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    bearer(api_client, user)

    response = api_client.get(ME)

    assert response.status_code == 200
    assert response.json() == representation(user)


def test_me_needs_authentication(api_client):
    response = api_client.get(ME)

    assert_problem(response, 401, "not_authenticated")


def test_me_patch_changes_names_at_once(api_client):
    user = UserFactory(email="ada@example.com")
    bearer(api_client, user)

    response = api_client.patch(
        ME, {"first_name": "Ada", "last_name": "King"}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ada", "King")
    assert response.json() == {**representation(user), "pending_email": None}


def test_me_patch_with_a_new_email_sends_a_link_and_changes_it_once_opened(
    api_client, django_capture_on_commit_callbacks, settings
):
    settings.STORE_URL = "https://shop.example.com"
    user = UserFactory(email="old@example.com")
    bearer(api_client, user)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.patch(
            ME,
            {"email": "New@Example.com", "current_password": DEFAULT_PASSWORD},
            format="json",
        )

    assert response.status_code == 200
    assert response.json() == {
        **representation(user),
        "email": "old@example.com",
        "pending_email": "new@example.com",
    }
    (message,) = mail.outbox
    assert (message.to, message.subject) == (
        ["new@example.com"],
        "Confirm your new ShopSwift email address",
    )
    link = re.search(r"https://shop\.example\.com(/account/email/\S+/)", message.body)
    assert "open this link within 72 hours" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(link[1])
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert api_client.get(ME).json()["email"] == "new@example.com"


def test_me_patch_with_a_wrong_password_saves_nothing(api_client):
    user = UserFactory(email="mine@example.com", first_name="Ada")
    bearer(api_client, user)

    response = api_client.patch(
        ME,
        {"email": "new@example.com", "first_name": "Eve", "current_password": "x"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "current_password": ["Your current password is incorrect."]
    }
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("mine@example.com", "Ada")


def test_me_patch_accepts_the_callers_own_email_in_another_case(api_client):
    user = UserFactory(email="mine@example.com")
    bearer(api_client, user)

    response = api_client.patch(ME, {"email": "MINE@example.com"}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == "mine@example.com"


def test_me_patch_refuses_a_malformed_email(api_client):
    bearer(api_client, UserFactory())

    response = api_client.patch(ME, {"email": "nope"}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"email": ["Enter a valid email address."]}


def test_a_customer_cannot_make_themselves_staff(api_client):
    user = UserFactory()
    bearer(api_client, user)

    response = api_client.patch(
        ME, {"is_staff": True, "is_superuser": True, "first_name": "Eve"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["is_staff"] is False
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.first_name) == (False, False, "Eve")


def test_me_put_is_not_allowed(api_client):
    bearer(api_client, UserFactory())

    response = api_client.put(ME, {"first_name": "X"}, format="json")

    assert_problem(response, 405, "method_not_allowed")


# --- POST users/me/password/ ----------------------------------------------------------


def test_change_password_answers_204_and_the_new_password_works(api_client):
    user = UserFactory(email="ada@example.com")
    bearer(api_client, user)

    response = api_client.post(
        ME_PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204
    assert authenticate(email="ada@example.com", password=NEW_PASSWORD) == user
    assert authenticate(email="ada@example.com", password=DEFAULT_PASSWORD) is None


def test_change_password_refuses_a_wrong_current_password(api_client):
    user = UserFactory()
    bearer(api_client, user)

    response = api_client.post(
        ME_PASSWORD,
        {"current_password": "not-it", "new_password": NEW_PASSWORD},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "current_password": ["Your current password is incorrect."]
    }
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_password_applies_the_password_validators(api_client):
    user = UserFactory()
    bearer(api_client, user)

    response = api_client.post(
        ME_PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": "short"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "new_password": [
            "This password is too short. It must contain at least 8 characters."
        ]
    }
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_password_names_missing_fields(api_client):
    bearer(api_client, UserFactory())

    response = api_client.post(ME_PASSWORD, {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"current_password", "new_password"}


def test_change_password_needs_authentication(api_client):
    response = api_client.post(
        ME_PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert_problem(response, 401, "not_authenticated")


def test_change_password_keeps_the_browser_session_that_changed_it(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        ME_PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 204
    assert client.get(ME).status_code == 200


# --- POST users/me/logout-all/ --------------------------------------------------------


def test_logout_all_answers_204_and_revokes_every_refresh_token(api_client):
    user = UserFactory()
    tokens = [str(RefreshToken.for_user(user)) for _ in range(2)]
    bearer(api_client, user)

    response = api_client.post("/api/v1/users/me/logout-all/")

    assert response.status_code == 204
    api_client.credentials()
    for token in tokens:
        refused = api_client.post(REFRESH, {"refresh": token}, format="json")
        assert_problem(refused, 401, "authentication_failed")


def test_logout_all_keeps_the_browser_session_that_asked(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post("/api/v1/users/me/logout-all/")

    assert response.status_code == 204
    assert client.get(ME).status_code == 200


# --- users/ and users/{id}/: staff ----------------------------------------------------


@pytest.fixture
def people():
    return {
        "alice": UserFactory(email="alice@example.com"),
        "bob": UserFactory(email="bob@example.com"),
        "staff": StaffFactory(email="staff@example.com"),
    }


LIST = "list"

PERMISSION_MATRIX = [
    # caller, method, target, status
    (None, "get", LIST, 401),
    (None, "get", "alice", 401),
    (None, "patch", "alice", 401),
    (None, "delete", "alice", 401),
    ("alice", "get", LIST, 403),
    ("alice", "get", "alice", 200),
    ("alice", "get", "bob", 403),
    ("alice", "patch", "alice", 403),
    ("alice", "patch", "bob", 403),
    ("alice", "delete", "alice", 403),
    ("alice", "delete", "bob", 403),
    ("bob", "get", "alice", 403),
    ("bob", "get", "bob", 200),
    ("staff", "get", LIST, 200),
    ("staff", "get", "alice", 200),
    ("staff", "patch", "alice", 200),
    ("staff", "delete", "alice", 204),
]


@pytest.mark.parametrize(("caller", "method", "target", "status"), PERMISSION_MATRIX)
def test_user_management_permission_matrix(
    api_client, people, caller, method, target, status
):
    if caller:
        bearer(api_client, people[caller])
    url = USERS if target == LIST else user_url(people[target])

    response = getattr(api_client, method)(
        url, {"first_name": "Changed"}, format="json"
    )

    assert response.status_code == status, response.content
    if status == 401:
        assert_problem(response, 401, "not_authenticated")
    elif status == 403:
        assert_problem(response, 403, "permission_denied")


def test_a_customer_gets_403_for_an_id_that_does_not_exist(api_client, people):
    bearer(api_client, people["alice"])

    response = api_client.get(f"{USERS}999999/")

    assert_problem(response, 403, "permission_denied")


def test_staff_get_404_for_an_id_that_does_not_exist(api_client, people):
    bearer(api_client, people["staff"])

    assert_problem(api_client.get(f"{USERS}999999/"), 404, "not_found")
    assert_problem(api_client.get(f"{USERS}alice/"), 404, "not_found")


def test_staff_list_users_newest_first_paginated(
    api_client, people, django_assert_num_queries
):
    bearer(api_client, people["staff"])

    # The caller's user, the count, the page.
    with django_assert_num_queries(3):
        response = api_client.get(USERS, {"page_size": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/users/?page=2&page_size=2"
    assert body["results"] == [
        representation(people["staff"]),
        representation(people["bob"]),
    ]


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ({"is_staff": "true"}, ["staff@example.com"]),
        (
            {"is_staff": "false"},
            ["alice@example.com", "bob@example.com", "carol@example.com"],
        ),
        ({"is_active": "false"}, ["carol@example.com"]),
        ({"search": "ALI"}, ["alice@example.com"]),
        ({"search": "Hopper"}, ["carol@example.com"]),
        (
            {"ordering": "email"},
            [f"{n}@example.com" for n in ["alice", "bob", "carol", "staff"]],
        ),
    ],
    ids=["staff", "customers", "inactive", "search-email", "search-name", "ordering"],
)
def test_staff_filter_the_user_list(api_client, people, query, emails):
    UserFactory(email="carol@example.com", last_name="Hopper", is_active=False)
    bearer(api_client, people["staff"])

    response = api_client.get(USERS, {"ordering": "email", **query})

    assert response.status_code == 200
    assert [user["email"] for user in response.json()["results"]] == emails


@pytest.mark.parametrize(
    "query",
    [{"is_staff": "maybe"}, {"is_active": "yes"}, {"ordering": "password"}],
    ids=lambda query: next(iter(query)),
)
def test_a_malformed_filter_is_400_naming_it(api_client, people, query):
    bearer(api_client, people["staff"])

    response = api_client.get(USERS, query)

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == set(query)


def test_a_superuser_promotes_a_customer(api_client, people):
    bearer(api_client, SuperuserFactory())

    response = api_client.patch(
        user_url(people["alice"]), {"is_staff": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["is_staff"] is True
    people["alice"].refresh_from_db()
    assert people["alice"].is_staff is True


def test_staff_cannot_promote_a_customer(api_client, people):
    bearer(api_client, people["staff"])

    response = api_client.patch(
        user_url(people["alice"]), {"is_staff": True}, format="json"
    )

    body = assert_problem(response, 403, "permission_denied")
    assert body["detail"] == (
        "Only a superuser may grant or revoke staff status, superuser status, "
        "groups or permissions."
    )
    people["alice"].refresh_from_db()
    assert people["alice"].is_staff is False


def test_staff_cannot_change_another_staff_account(api_client, people):
    colleague = StaffFactory(first_name="Grace")
    bearer(api_client, people["staff"])

    response = api_client.patch(
        user_url(colleague), {"first_name": "Eve"}, format="json"
    )

    body = assert_problem(response, 403, "permission_denied")
    assert body["detail"] == "Only a superuser may change another staff account."
    colleague.refresh_from_db()
    assert colleague.first_name == "Grace"


def test_staff_change_a_users_email_keeping_it_unique(api_client, people):
    bearer(api_client, people["staff"])

    taken = api_client.patch(
        user_url(people["alice"]), {"email": "BOB@example.com"}, format="json"
    )
    free = api_client.patch(
        user_url(people["alice"]), {"email": "Alice.L@example.com"}, format="json"
    )

    body = assert_problem(taken, 400, "validation_error")
    assert set(body["errors"]) == {"email"}
    assert free.status_code == 200
    assert free.json()["email"] == "alice.l@example.com"


def test_staff_delete_a_user(api_client, people):
    bearer(api_client, people["staff"])

    response = api_client.delete(user_url(people["alice"]))

    assert response.status_code == 204
    assert not User.objects.filter(pk=people["alice"].pk).exists()


def test_staff_cannot_put_a_user(api_client, people):
    bearer(api_client, people["staff"])

    response = api_client.put(user_url(people["alice"]), {}, format="json")

    assert_problem(response, 405, "method_not_allowed")


def test_only_a_superuser_may_change_or_delete_a_superuser(api_client, people):
    owner = StaffFactory(email="owner@example.com", is_superuser=True)
    bearer(api_client, people["staff"])

    patched = api_client.patch(
        user_url(owner), {"email": "staff-controlled@example.com"}, format="json"
    )
    deleted = api_client.delete(user_url(owner))
    seen = api_client.get(user_url(owner))

    assert_problem(patched, 403, "permission_denied")
    assert_problem(deleted, 403, "permission_denied")
    assert seen.status_code == 200
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"
    bearer(api_client, StaffFactory(is_superuser=True))
    assert (
        api_client.patch(
            user_url(owner), {"first_name": "Boss"}, format="json"
        ).status_code
        == 200
    )


# --- Never a password or its hash -----------------------------------------------------


def test_no_api_response_contains_a_password_hash(api_client, people):
    alice, staff = people["alice"], people["staff"]
    hashes = [user.password for user in User.objects.all()]
    refresh = str(RefreshToken.for_user(alice))
    responses = [
        api_client.post(
            REGISTER,
            {"email": "new@example.com", "password": "brand-new-passphrase"},
            format="json",
        ),
        log_in(api_client, "alice@example.com"),
        api_client.post(REFRESH, {"refresh": refresh}, format="json"),
        bearer(api_client, alice).get(ME),
        api_client.patch(ME, {"first_name": "Al"}, format="json"),
        api_client.get(user_url(alice)),
        bearer(api_client, staff).get(USERS),
        api_client.get(user_url(alice)),
        api_client.patch(user_url(alice), {"last_name": "X"}, format="json"),
    ]
    hashes.append(User.objects.get(email="new@example.com").password)

    for response in responses:
        assert response.status_code in {200, 201}, response.content
        text = response.content.decode()
        assert "password" not in text
        for encoded in hashes:
            assert encoded not in text
            assert encoded.rsplit("$", 1)[-1] not in text
