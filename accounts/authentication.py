import functools

from django.contrib.auth import get_user_model
from django.db import connections
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import User

# The OpenAPI security of a view that takes LeanJWTAuthentication and the
# session: the schemes simplejwt's JWTAuthentication and the session give
# the other endpoints, as drf-spectacular cannot tell that a subclass takes
# the same bearer token.
LEAN_JWT_OR_SESSION_AUTH: list[dict[str, list[str]]] = [
    {"jwtAuth": []},
    {"cookieAuth": []},
]
# The same, for a view a guest may use too ({}: no authentication).
LEAN_JWT_SESSION_OR_GUEST: list[dict[str, list[str]]] = [*LEAN_JWT_OR_SESSION_AUTH, {}]


@functools.cache
def user_sql() -> str:
    """The statement reading a user's id and is_active, named through the model."""
    user_model = get_user_model()
    meta = user_model._meta
    quote = connections[user_model.objects.db].ops.quote_name
    pk_column = meta.pk.column
    is_active_column = meta.get_field("is_active").column
    # Concrete fields, so each has its column.
    assert pk_column is not None
    assert is_active_column is not None
    pk = quote(pk_column)
    is_active = quote(is_active_column)
    # Accepted bandit B608: only the model's table and column names are
    # formatted in; the id is bound.
    return f"SELECT {pk}, {is_active} FROM {quote(meta.db_table)} WHERE {pk} = %s"  # nosec B608


class LeanJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer tokens, the token's user read in one written-out query.

    simplejwt's `get_user` builds an ORM query for every column of the user,
    which cost a checkout more CPU than its statement. This reads the id and
    `is_active` only; request.user is the User with those two loaded, any other
    field loads when first used, as after only(). It refuses what simplejwt's
    `get_user` does with the settings in use (CHECK_USER_IS_ACTIVE on,
    CHECK_REVOKE_TOKEN off): a token without a user id, and the token of a
    deleted or deactivated user.
    """

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(
                _("Token contained no recognizable user identification")
            ) from None
        database = self.user_model.objects.db
        with connections[database].cursor() as cursor:
            cursor.execute(user_sql(), [user_id])
            found = cursor.fetchone()
        if found is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user_id, is_active = found
        if not is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return self.user_model.from_db(database, ["id", "is_active"], [user_id, True])


class AuthenticatedHttpRequest(HttpRequest):
    """A page's request once LoginRequiredMixin let it in: its user is a User."""

    user: User


class AuthenticatedRequest(Request):
    """An API request once a permission let only a user in: its user is a User."""

    user: User
