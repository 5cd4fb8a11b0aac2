"""Forged, tampered, expired and misused JWTs: each is 401 authentication_failed."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unchanged")]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token):
    return jwt.decode(str(token), options={"verify_signature": False})


def with_claims(token, **changes):
    """The token with its payload changed and its signature left as it was."""
    header, _, signature = str(token).split(".")
    payload = b64(json.dumps({**claims_of(token), **changes}).encode())
    return f"{header}.{payload}.{signature}"


def unsigned(token, algorithm="none"):
    """The same claims, `alg: none` and no signature."""
    header = b64(json.dumps({"alg": algorithm, "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims_of(token)).encode())}."


def get_me(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.get("/api/v1/users/me/")


def test_a_valid_token_works(api_client, alice):
    response = get_me(api_client, AccessToken.for_user(alice))

    assert response.status_code == 200


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE", "nOnE"])
def test_a_token_signed_with_alg_none_is_refused(api_client, alice, algorithm):
    token = unsigned(AccessToken.for_user(alice), algorithm)

    response = get_me(api_client, token)

    assert_problem(response, 401, "authentication_failed")


def test_a_token_whose_user_id_was_changed_is_refused(api_client, alice, staff):
    token = with_claims(AccessToken.for_user(alice), user_id=staff.pk)

    response = get_me(api_client, token)

    assert_problem(response, 401, "authentication_failed")


def test_a_token_whose_expiry_was_pushed_back_is_refused(api_client, alice):
    token = AccessToken.for_user(alice)
    token = with_claims(token, exp=claims_of(token)["exp"] + 10**6)

    response = get_me(api_client, token)

    assert_problem(response, 401, "authentication_failed")


def test_a_token_signed_with_another_key_is_refused(api_client, alice):
    claims = claims_of(AccessToken.for_user(alice))
    forged = jwt.encode(claims, "not-the-secret-key-" + "x" * 40, algorithm="HS256")

    response = get_me(api_client, forged)

    assert_problem(response, 401, "authentication_failed")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_with_another_algorithm_than_ours_is_refused(api_client, alice):
    claims = claims_of(AccessToken.for_user(alice))
    forged = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS512")

    response = get_me(api_client, forged)

    assert_problem(response, 401, "authentication_failed")


def test_an_expired_token_is_refused(api_client, alice):
    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(seconds=1))

    response = get_me(api_client, token)

    assert_problem(response, 401, "authentication_failed")


def test_a_refresh_token_used_as_an_access_token_is_refused(api_client, alice):
    response = get_me(api_client, RefreshToken.for_user(alice))

    assert_problem(response, 401, "authentication_failed")


def test_an_access_token_used_to_refresh_is_refused(api_client, alice):
    response = api_client.post(
        "/api/v1/auth/token/refresh/",
        {"refresh": str(AccessToken.for_user(alice))},
        format="json",
    )

    assert_problem(response, 401, "authentication_failed")


def test_a_tampered_refresh_token_is_refused(api_client, alice):
    token = with_claims(RefreshToken.for_user(alice), user_id=alice.pk + 1000)

    response = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": token}, format="json"
    )

    assert_problem(response, 401, "authentication_failed")


def test_an_unsigned_refresh_token_is_refused(api_client, alice):
    response = api_client.post(
        "/api/v1/auth/token/refresh/",
        {"refresh": unsigned(RefreshToken.for_user(alice))},
        format="json",
    )

    assert_problem(response, 401, "authentication_failed")


def test_a_token_of_a_deactivated_user_is_refused(api_client, mallory):
    token = AccessToken.for_user(mallory)
    mallory.is_active = False
    mallory.save(update_fields=["is_active"])

    response = get_me(api_client, token)

    assert_problem(response, 401, "authentication_failed")
    mallory.is_active = True
    mallory.save(update_fields=["is_active"])


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a.b",
        "Bearer a.b.c.d",
        "Bearer " + "A" * 10_000,
        "Bearer \u00e9\u00e9.\u00e9.\u00e9",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.",
        "Bearer x y z",
        "Token abc",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
    ],
)
def test_malformed_authorization_headers_never_fail_the_server(api_client, header):
    response = api_client.get(
        "/api/v1/users/me/", HTTP_AUTHORIZATION=header.encode().decode("latin-1")
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
