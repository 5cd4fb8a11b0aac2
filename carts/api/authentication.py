from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from carts.models import Cart


class CartJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer tokens, the token's user read together with their cart.

    A cart read spent one round trip on the user and one on the cart; this
    reads both in one query (`Cart.objects.lines_of_user`) and keeps the rows
    in `cart_rows` for the view. It refuses what simplejwt's `get_user` does
    with the settings in use (CHECK_USER_IS_ACTIVE on, CHECK_REVOKE_TOKEN
    off): the token of a deleted or deactivated user.
    """

    cart_rows = None

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(
                _("Token contained no recognizable user identification")
            ) from None
        rows = Cart.objects.lines_of_user(user_id)
        if not rows:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not rows[0]["user_is_active"]:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        self.cart_rows = rows
        # Only the fields read; any other loads when first used, as after only().
        return self.user_model.from_db(
            Cart.objects.db, ["id", "is_active"], [rows[0]["user_id"], True]
        )
