from typing import TYPE_CHECKING

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.authentication import (
    LEAN_JWT_SESSION_OR_GUEST,
    AuthenticatedRequest,
    LeanJWTAuthentication,
)
from carts import queries, services
from carts.api.serializers import (
    AddItemSerializer,
    CartSerializer,
    SetQuantitySerializer,
    ShippingChoiceSerializer,
    VoucherCodeSerializer,
)
from carts.models import Cart, CartItem
from core.ratelimit import user_rate_limit
from pricing.exceptions import VoucherInvalid

INSUFFICIENT_STOCK = OpenApiResponse(
    description="`insufficient_stock`: the line's whole quantity is more than "
    "the stock on hand. `shortages[0].available` gives the units for sale "
    "(`shortages`: `[{product_id, sku, requested, available, is_active, "
    "variant_id}]`)."
)
VALIDATION = OpenApiResponse(
    description="`validation_error`: `errors.variant` for an unknown or "
    "inactive variant (or a product with several variants given without "
    "one), `errors.product` for an unknown or inactive product, "
    "`errors.quantity` for a quantity that is not a whole number from 1 to "
    "1000 (also when the line's total would pass 1000)."
)

if TYPE_CHECKING:
    # What the mixin's methods extend: a viewset's.
    CartViewSetBase = viewsets.GenericViewSet
else:
    CartViewSetBase = object


class CartMixin(CartViewSetBase):
    """The caller's own cart, priced live, read in a fixed number of queries.

    A customer's cart is the account's; a guest's is the anonymous cart its
    `Cart-Token` header names, made by its first write (whose answer gives
    the token). A token never reaches a customer's cart.
    """

    request: AuthenticatedRequest
    permission_classes = [AllowAny]
    # One counter per user (per client IP for a guest) for every cart write
    # (RATELIMIT_CART_WRITE).
    throttle_classes = [user_rate_limit("RATELIMIT_CART_WRITE")]
    serializer_class = CartSerializer

    def current_cart(self) -> Cart | None:
        """The caller's cart (None: a guest without one)."""
        user = self.request.user
        if user.is_authenticated:
            return services.get_user_cart(user=user)
        return services.get_token_cart(token=self.request.headers.get("Cart-Token", ""))

    def cart_for_write(self) -> Cart:
        """The caller's cart, a guest's made now if it has none."""
        return self.current_cart() or services.create_token_cart()

    def cart_response(
        self, cart: Cart | None = None, *, http_status: int = status.HTTP_200_OK
    ) -> Response:
        user = self.request.user
        if user.is_authenticated:
            answer = queries.user_cart_representation(user, request=self.request)
        else:
            token = cart.token if cart is not None else None
            if token is None:
                token = self.request.headers.get("Cart-Token", "")
            answer = queries.anonymous_cart_representation(
                token or "", request=self.request
            )
        return Response(answer, status=http_status)


class CartViewSet(CartMixin, viewsets.GenericViewSet):
    """The caller's cart: one per user, created empty on first use."""

    # The token's user read with its id and is_active only.
    authentication_classes = [LeanJWTAuthentication, SessionAuthentication]

    @extend_schema(
        summary="The caller's cart",
        responses={200: CartSerializer},
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
    )
    def retrieve(self, request):
        return self.cart_response()

    @extend_schema(
        summary="Empty the cart",
        responses={204: None},
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
    )
    def clear(self, request):
        cart = self.current_cart()
        if cart is not None:
            services.clear_cart(cart=cart)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartPricingViewSet(CartMixin, viewsets.ViewSet):
    """Where the caller's cart goes, how, and with which voucher."""

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Choose where the cart ships and how",
        description="Prices the cart for `country` (tax, shipping) by `method`.",
        request=ShippingChoiceSerializer,
        responses={
            200: CartSerializer,
            400: OpenApiResponse(
                description="`validation_error` naming `country` (not a country "
                "code) or `method` (none given where methods ship, or one that "
                "does not ship to the country)."
            ),
        },
    )
    def shipping(self, request):
        serializer = ShippingChoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.set_shipping(
            cart=self.cart_for_write(), **serializer.validated_data
        )
        return self.cart_response(cart)

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Apply a voucher to the cart",
        request=VoucherCodeSerializer,
        responses={
            200: CartSerializer,
            400: OpenApiResponse(
                description="`voucher_invalid`, `detail` saying why: unknown, not "
                "valid yet or expired, used up, used by the caller already, "
                "nothing in the cart it applies to, or the subtotal below its "
                "minimum."
            ),
        },
    )
    def apply_voucher(self, request):
        serializer = VoucherCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        cart = self.current_cart()
        if cart is None:
            raise VoucherInvalid("Add something to the cart first.")
        services.apply_voucher(
            cart=cart, code=serializer.validated_data["code"], user=user
        )
        return self.cart_response(cart)

    @extend_schema(
        summary="Take the voucher off the cart", responses={200: CartSerializer}
    )
    def remove_voucher(self, request):
        cart = self.current_cart()
        if cart is not None:
            services.remove_voucher(cart=cart)
        return self.cart_response(cart)


class CartItemViewSet(CartMixin, viewsets.GenericViewSet):
    """Lines of the caller's cart; another user's line is 404."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CartItem.objects.none()
        if self.request.user.is_authenticated:
            return CartItem.objects.for_user(self.request.user)
        return CartItem.objects.filter(cart=self.current_cart())

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Add a variant to the cart",
        description="`{variant, quantity}`, or `{product, quantity}` for a "
        "product with one active variant. The same variant again adds to its "
        "line; the line's whole quantity is checked against its stock on hand.",
        request=AddItemSerializer,
        responses={201: CartSerializer, 400: VALIDATION, 409: INSUFFICIENT_STOCK},
    )
    def create(self, request):
        serializer = AddItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = self.cart_for_write()
        services.add_item(cart=cart, **serializer.validated_data)
        return self.cart_response(cart, http_status=status.HTTP_201_CREATED)

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Change a line's quantity",
        request=SetQuantitySerializer,
        responses={200: CartSerializer, 400: VALIDATION, 409: INSUFFICIENT_STOCK},
    )
    def partial_update(self, request, pk):
        item = self.get_object()
        serializer = SetQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.set_item_quantity(item=item, **serializer.validated_data)
        except CartItem.DoesNotExist:
            raise NotFound() from None  # removed by a concurrent request
        return self.cart_response()

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Remove a line from the cart",
        responses={204: None},
    )
    def destroy(self, request, pk):
        services.remove_item(item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
