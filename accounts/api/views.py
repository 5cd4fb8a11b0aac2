"""The accounts API: /api/v1/auth/ (tokens, registration) and /api/v1/users/."""

from collections.abc import Mapping

from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import UntypedToken

from accounts import limits, services
from accounts.api.filters import UserFilter
from accounts.api.serializers import (
    AddressSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    RegisterSerializer,
    StaffUserUpdateSerializer,
    UserSerializer,
)
from accounts.authentication import AuthenticatedRequest
from accounts.models import Address, User, normalize_email
from accounts.permissions import IsStaffOrSelfReadOnly
from accounts.signals import api_login


class RegisterView(APIView):
    # Anonymous by design: no session, so no CSRF check for browsers that
    # happen to be logged in to the pages.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Create a customer account",
        request=RegisterSerializer,
        responses={
            201: UserSerializer,
            400: OpenApiResponse(
                description="`validation_error`: `errors.email` (invalid or "
                "taken, in any case) and/or `errors.password` (the password "
                "validators)."
            ),
            429: OpenApiResponse(
                description="`throttled`: too many registrations from this "
                "client IP (RATELIMIT_REGISTER), or for this email address "
                "from any IP (RATELIMIT_REGISTER_EMAIL); see `Retry-After`."
            ),
        },
    )
    def post(self, request):
        data = request.data if isinstance(request.data, Mapping) else {}
        limits.limit_registration(request, data.get("email"))
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields.pop("cart_token", None)
        user = services.register_user(**fields)
        cart_token(request, user)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


def cart_token(request, user):
    """Hand the guest's cart (`cart_token` in the body) to whoever merges it."""
    data = request.data if isinstance(request.data, Mapping) else {}
    token = data.get("cart_token")
    if isinstance(token, str) and token:
        api_login.send(sender=User, user=user, cart_token=token)


@extend_schema_view(
    post=extend_schema(
        summary="Log in: an access and a refresh token for email and password",
        responses={
            200: jwt_serializers.TokenObtainPairSerializer,
            401: OpenApiResponse(
                description="`authentication_failed`: wrong email or password, "
                "or the account is deactivated."
            ),
            429: OpenApiResponse(
                description="`throttled`: too many failed logins from this "
                "client IP or for this email (RATELIMIT_LOGIN); see "
                "`Retry-After`."
            ),
        },
    )
)
class TokenObtainPairView(jwt_views.TokenObtainPairView):
    """simplejwt's login, with failed attempts limited per IP and per email."""

    serializer_class = LoginSerializer

    def post(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, Mapping) else {}
        email = data.get("email")
        limits.check_login(request, email)
        try:
            response = super().post(request, *args, **kwargs)
        except exceptions.AuthenticationFailed:
            limits.record_failed_login(request, email)
            raise
        if data.get("cart_token"):
            cart_token(request, User.objects.get(email=normalize_email(email)))
        return response


@extend_schema_view(
    post=extend_schema(
        summary="Trade a refresh token for a new access and refresh token",
        description="The refresh token rotates: the one sent is blacklisted "
        "and answers 401 if used again.",
        responses={
            200: jwt_serializers.TokenRefreshSerializer,
            401: OpenApiResponse(
                description="`authentication_failed`: the refresh token is "
                "malformed, expired, already used or revoked."
            ),
        },
    )
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            self._lock_refresh_token(request.data)
            try:
                return super().post(request, *args, **kwargs)
            except User.DoesNotExist:
                # simplejwt looks the token's user up without catching this.
                raise InvalidToken("The token's user no longer exists.") from None

    @staticmethod
    def _lock_refresh_token(data):
        """Hold the token's row until the rotation commits.

        simplejwt checks the blacklist, then blacklists: two concurrent
        refreshes with one token could both pass the check and both get new
        tokens. Locking the row makes the second wait and then see the first's
        blacklisting, so a stolen token cannot be raced in beside its owner.
        """
        raw = data.get("refresh") if isinstance(data, Mapping) else None
        if not isinstance(raw, str):
            return  # the serializer reports it
        try:
            token = UntypedToken(raw)  # type: ignore[arg-type]  # simplejwt#787: hint says Token, takes str
            jti = token.get(jwt_settings.JTI_CLAIM)
        except TokenError:
            return  # likewise
        # order_by(): the model's default ordering joins the user table,
        # which FOR UPDATE cannot lock through.
        locked = OutstandingToken.objects.select_for_update().filter(jti=jti)
        list(locked.order_by().values_list("pk", flat=True))


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Log out: revoke a refresh token",
        request=LogoutSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token no longer works."),
            401: OpenApiResponse(
                description="`not_authenticated` without an access token; "
                "`authentication_failed` when the refresh token is malformed, "
                "expired, already revoked or not the caller's."
            ),
        },
    )
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.revoke_refresh_token(
                user=request.user, token=serializer.validated_data["refresh"]
            )
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


STAFF_OR_OWN = (
    "Staff. A customer may read their own user (GET of their own id) and gets "
    "403 for the list and every other id; PATCH and DELETE are staff-only "
    "(customers change themselves through `me/`)."
)
RANKS = (
    " Staff manage customers only: changing or deleting a superuser or "
    "another staff account, or granting or revoking `is_staff` or "
    "`is_superuser`, is for a superuser (403 `permission_denied` naming the "
    "rule otherwise). Nobody changes their own `email` here: that is "
    "`PATCH me/` with `current_password`. Groups and permissions are managed "
    "in the admin."
)


@extend_schema_view(
    list=extend_schema(summary="List users (staff)", description=STAFF_OR_OWN),
    retrieve=extend_schema(summary="A user", description=STAFF_OR_OWN),
    partial_update=extend_schema(
        summary="Change a user (staff)",
        description=STAFF_OR_OWN
        + RANKS
        + " A new `email` applies at once: the user's refresh tokens are "
        "revoked, their page sessions end and the old address is told.",
        request=StaffUserUpdateSerializer,
        responses={
            200: UserSerializer,
            400: OpenApiResponse(
                description="`validation_error`: `errors.email` when invalid "
                "or taken by another account."
            ),
            403: OpenApiResponse(
                description="`permission_denied`: not staff, or the change "
                "needs a superuser."
            ),
        },
    ),
    destroy=extend_schema(
        summary="Delete a user (staff)",
        description=STAFF_OR_OWN
        + RANKS
        + " Deactivating (in the admin) keeps the account's records; deleting "
        "an account that other records still need is 409 `conflict`.",
        responses={
            204: None,
            409: OpenApiResponse(description="`conflict`: still referred to."),
        },
    ),
)
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest
    queryset = User.objects.order_by("-date_joined", "-pk")
    serializer_class = UserSerializer
    permission_classes = [IsStaffOrSelfReadOnly]
    filterset_class = UserFilter
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        # No action: a method this route does not serve, which is 405 for
        # anyone authenticated.
        if self.action in {"me", "change_password", "logout_all", None}:
            return [IsAuthenticated()]
        return super().get_permissions()

    def partial_update(self, request, pk=None):
        user = self.get_object()
        serializer = StaffUserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.update_user(
            user=user, changed_by=request.user, **serializer.validated_data
        )
        return Response(UserSerializer(user).data)

    def perform_destroy(self, instance):
        services.delete_user(user=instance, deleted_by=self.request.user)

    @extend_schema(
        methods=["GET"], summary="The caller's own user", responses=UserSerializer
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change the caller's names, or ask for a new email",
        description="Names change at once. A new `email` needs "
        "`current_password` and does not change `email` yet: a link is sent to "
        "the new address, and `email` changes when it is opened (the user's "
        "refresh tokens are then revoked, their other sessions end and the old "
        "address is told). The answer is the same whether or not the new "
        "address already has an account (its owner is told instead), so it "
        "reveals nothing about other accounts; `pending_email` echoes the "
        "address. `is_staff` cannot be set here; it is ignored.",
        request=ProfileUpdateSerializer,
        responses={
            200: ProfileSerializer,
            400: OpenApiResponse(
                description="`validation_error`: `errors.email` when invalid; "
                "`errors.current_password` when a new email comes without the "
                "current password or with a wrong one."
            ),
            429: OpenApiResponse(
                description="`throttled`: too many new email addresses asked "
                "for (RATELIMIT_EMAIL_CHANGE, per user), or too many wrong "
                "current passwords, which count as failed logins "
                "(RATELIMIT_LOGIN)."
            ),
        },
    )
    @action(detail=False, methods=["get", "patch"], filter_backends=[])
    def me(self, request):
        user = request.user
        if request.method == "GET":
            return Response(UserSerializer(user).data)
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        if services.is_email_change(user=user, email=fields.get("email")):
            limits.limit_email_change(request, user)
        try:
            change = services.update_profile(user=user, **fields)
        except DjangoValidationError as error:
            if "current_password" in error.message_dict:
                limits.record_failed_login(request, user.email)
            raise
        return Response(ProfileSerializer(change).data)

    @extend_schema(
        summary="Change the caller's password",
        description="Every refresh token of the caller issued before is "
        "revoked (401 `authentication_failed` when used) and their other page "
        "sessions end; a browser session that changes it stays logged in. The "
        "user's address is told.",
        request=PasswordChangeSerializer,
        responses={
            204: OpenApiResponse(description="The password is changed."),
            400: OpenApiResponse(
                description="`validation_error`: `errors.current_password` when "
                "wrong, `errors.new_password` from the password validators."
            ),
            429: OpenApiResponse(
                description="`throttled`: too many wrong current passwords; "
                "they count as failed logins (RATELIMIT_LOGIN)."
            ),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="me/password",
        url_name="me-password",
        filter_backends=[],
    )
    def change_password(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        # A stolen access token must not become a way to guess the password.
        limits.check_login(request, user.email)
        try:
            services.change_password(user=user, **serializer.validated_data)
        except DjangoValidationError as error:
            if "current_password" in error.message_dict:
                limits.record_failed_login(request, user.email)
            raise
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the browser that changed it logged in.
            update_session_auth_hash(request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Log out everywhere",
        description="Every refresh token of the caller is revoked (401 "
        "`authentication_failed` when used) and their page sessions end; a "
        "browser session that asks stays logged in. Access tokens already "
        "issued work until they expire (JWT_ACCESS_TOKEN_MINUTES).",
        request=None,
        responses={204: OpenApiResponse(description="Logged out everywhere.")},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="me/logout-all",
        url_name="me-logout-all",
        filter_backends=[],
    )
    def logout_all(self, request):
        user = services.sign_out_everywhere(user=request.user)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            update_session_auth_hash(request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="The caller's address book",
        description="The default shipping address first, then the newest.",
    ),
    create=extend_schema(
        summary="Add an address",
        responses={
            201: AddressSerializer,
            400: OpenApiResponse(
                description="`validation_error` with `errors` per field "
                "(`postal_code` not of the `country`…), or a full book "
                "(`non_field_errors`)."
            ),
        },
    ),
    retrieve=extend_schema(
        summary="An address of the caller's",
        description="Another user's address is 404.",
    ),
    partial_update=extend_schema(
        summary="Change an address",
        description="The fields given; the address is checked whole.",
    ),
    destroy=extend_schema(
        summary="Delete an address",
        description="Orders shipped to it keep their own copy.",
    ),
)
class AddressViewSet(viewsets.ModelViewSet):
    """/api/v1/users/me/addresses/: the caller's own addresses only."""

    request: AuthenticatedRequest
    serializer_class = AddressSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Address.objects.none()
        # Another user's address is simply not found (404).
        return Address.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        make_default = data.pop("is_default_shipping", False)
        serializer.instance = services.add_address(
            user=self.request.user, data=data, make_default=make_default
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        default = data.pop("is_default_shipping", None)
        serializer.instance = services.update_address(
            address=serializer.instance, data=data, default=default
        )

    def perform_destroy(self, instance):
        services.delete_address(address=instance)
