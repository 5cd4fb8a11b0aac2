from typing import TYPE_CHECKING

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import (
    LEAN_JWT_OR_SESSION_AUTH,
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
from carts.models import CartItem
from core.ratelimit import user_rate_limit

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
    """The caller's own cart, priced live, read in a fixed number of queries."""

    request: AuthenticatedRequest
    permission_classes = [IsAuthenticated]
    # One counter per user for every cart write (RATELIMIT_CART_WRITE).
    throttle_classes = [user_rate_limit("RATELIMIT_CART_WRITE")]
    serializer_class = CartSerializer

    def cart_response(self, *, http_status: int = status.HTTP_200_OK) -> Response:
        answer = queries.user_cart_representation(
            self.request.user, request=self.request
        )
        return Response(answer, status=http_status)


class CartViewSet(CartMixin, viewsets.GenericViewSet):
    """The caller's cart: one per user, created empty on first use."""

    # The token's user read with its id and is_active only.
    authentication_classes = [LeanJWTAuthentication, SessionAuthentication]

    @extend_schema(
        summary="The caller's cart",
        responses={200: CartSerializer},
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
    )
    def retrieve(self, request):
        return self.cart_response()

    @extend_schema(
        summary="Empty the cart",
        responses={204: None},
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
    )
    def clear(self, request):
        services.clear_cart(cart=services.get_user_cart(user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartPricingViewSet(CartMixin, viewsets.ViewSet):
    """Where the caller's cart goes, how, and with which voucher."""

    @extend_schema(
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
        services.set_shipping(
            cart=services.get_user_cart(user=request.user),
            **serializer.validated_data,
        )
        return self.cart_response()

    @extend_schema(
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
        services.apply_voucher(
            cart=services.get_user_cart(user=request.user),
            code=serializer.validated_data["code"],
            user=request.user,
        )
        return self.cart_response()

    @extend_schema(
        summary="Take the voucher off the cart", responses={200: CartSerializer}
    )
    def remove_voucher(self, request):
        services.remove_voucher(cart=services.get_user_cart(user=request.user))
        return self.cart_response()


class CartItemViewSet(CartMixin, viewsets.GenericViewSet):
    """Lines of the caller's cart; another user's line is 404."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CartItem.objects.none()
        return CartItem.objects.for_user(self.request.user)

    @extend_schema(
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
        cart = services.get_user_cart(user=request.user)
        services.add_item(cart=cart, **serializer.validated_data)
        return self.cart_response(http_status=status.HTTP_201_CREATED)

    @extend_schema(
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

    @extend_schema(summary="Remove a line from the cart", responses={204: None})
    def destroy(self, request, pk):
        services.remove_item(item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
