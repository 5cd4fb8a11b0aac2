import pytest
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from carts.api.authentication import CartJWTAuthentication
from carts.tests.factories import CartFactory, CartItemFactory

pytestmark = pytest.mark.django_db


def bearer_request(token):
    return APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_authenticate_gives_the_tokens_user_and_keeps_their_cart_rows(
    django_assert_num_queries,
):
    shopper = UserFactory(email="ada@example.com")
    line = CartItemFactory(cart=CartFactory(user=shopper))
    token = AccessToken.for_user(shopper)
    authentication = CartJWTAuthentication()

    with django_assert_num_queries(1):
        user, validated = authentication.authenticate(bearer_request(token))

    assert (user, user.is_active, validated["jti"]) == (shopper, True, token["jti"])
    assert [row["item_id"] for row in authentication.cart_rows] == [line.pk]
    with django_assert_num_queries(1):  # a field not read comes when first used
        assert user.email == "ada@example.com"


def test_a_token_without_a_user_claim_is_refused():
    token = AccessToken.for_user(UserFactory())
    del token[api_settings.USER_ID_CLAIM]

    with pytest.raises(InvalidToken, match="no recognizable user identification"):
        CartJWTAuthentication().authenticate(bearer_request(token))
