import pytest
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import LeanJWTAuthentication
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer_request(token):
    return APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_authenticate_gives_the_tokens_user_with_id_and_is_active_loaded(
    django_assert_num_queries,
):
    ada = UserFactory(email="ada@example.com")
    token = AccessToken.for_user(ada)

    with django_assert_num_queries(1):
        user, validated = LeanJWTAuthentication().authenticate(bearer_request(token))

    assert (user, user.is_active, validated["jti"]) == (ada, True, token["jti"])
    assert user.get_deferred_fields() == {
        field.attname for field in User._meta.concrete_fields
    } - {"id", "is_active"}
    with django_assert_num_queries(1):  # a field not read comes when first used
        assert user.email == "ada@example.com"


def refusal_of(authentication, token):
    with pytest.raises(AuthenticationFailed) as refusal:
        authentication.authenticate(bearer_request(token))
    return refusal.value.detail


def test_a_deactivated_users_token_is_refused_as_simplejwt_refuses_it():
    token = AccessToken.for_user(UserFactory(is_active=False))

    refused = refusal_of(LeanJWTAuthentication(), token)

    assert refused == refusal_of(JWTAuthentication(), token)
    assert refused["detail"] == "User is inactive"


def test_a_deleted_users_token_is_refused_as_simplejwt_refuses_it():
    user = UserFactory()
    token = AccessToken.for_user(user)
    user.delete()

    refused = refusal_of(LeanJWTAuthentication(), token)

    assert refused == refusal_of(JWTAuthentication(), token)
    assert refused["detail"] == "User not found"


def test_a_token_without_a_user_claim_is_refused():
    token = AccessToken.for_user(UserFactory())
    del token[api_settings.USER_ID_CLAIM]

    with pytest.raises(InvalidToken, match="no recognizable user identification"):
        LeanJWTAuthentication().authenticate(bearer_request(token))


def test_simplejwts_user_checks_in_use_are_the_ones_lean_authentication_makes():
    # LeanJWTAuthentication.get_user repeats simplejwt's checks for these
    # settings; another value needs its check added there.
    assert api_settings.USER_ID_FIELD == "id"
    assert api_settings.USER_ID_CLAIM == "user_id"
    assert api_settings.CHECK_USER_IS_ACTIVE is True
    assert api_settings.CHECK_REVOKE_TOKEN is False
