from django.db import connections
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

USER_SQL = "SELECT id, is_active FROM accounts_user WHERE id = %s"

# The OpenAPI security of a view that takes LeanJWTAuthentication (or a
# subclass) and the session: the schemes simplejwt's JWTAuthentication and
# the session give the other endpoints, as drf-spectacular cannot tell that
# a subclass takes the same bearer token.
LEAN_JWT_OR_SESSION_AUTH = [{"jwtAuth": []}, {"cookieAuth": []}]


class LeanJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer tokens, the token's user read in one written-out query.

    simplejwt's `get_user` builds an ORM query for every column of the user,
    which cost a checkout more CPU than its statement. This reads the id and
    `is_active` only; request.user is the User with those two loaded, any other
    field loads when first used, as after only(). It refuses what simplejwt's
    `get_user` does with the settings in use (CHECK_USER_IS_ACTIVE on,
    CHECK_REVOKE_TOKEN off): a token without a user id, and the token of a
    deleted or deactivated user.

    A view that needs more with the user overrides `read_user` to read it in
    the same query (carts.api.authentication.CartJWTAuthentication).
    """

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(
                _("Token contained no recognizable user identification")
            ) from None
        found = self.read_user(user_id)
        if found is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user_id, is_active = found
        if not is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return self.user_model.from_db(
            self.user_model.objects.db, ["id", "is_active"], [user_id, True]
        )

    def read_user(self, user_id):
        """Return the user's (id, is_active), or None when there is no such user."""
        with connections[self.user_model.objects.db].cursor() as cursor:
            cursor.execute(USER_SQL, [user_id])
            return cursor.fetchone()
