"""The orders API: checkout, the customer's and staff's orders, cancel, pay."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import (
    LEAN_JWT_OR_SESSION_AUTH,
    LEAN_JWT_SESSION_OR_GUEST,
    AuthenticatedRequest,
    LeanJWTAuthentication,
)
from accounts.permissions import IsStaff
from carts import services as cart_services
from core.ratelimit import user_rate_limit
from orders import access, limits, services
from orders.api.filters import OrderFilter
from orders.api.serializers import (
    CheckoutSerializer,
    GuestOrderSerializer,
    OrderSerializer,
    PaySerializer,
    StatusUpdateSerializer,
)
from orders.exceptions import CartEmpty
from orders.models import Order
from orders.queries import order_representation

# What a guest may do, by its Cart-Token (checkout) or Order-Token.
GUEST_ACTIONS = ("create", "retrieve", "cancel", "pay")
ORDER_TOKEN = OpenApiParameter(
    "Order-Token",
    location=OpenApiParameter.HEADER,
    required=False,
    description="A guest's order: the `access_token` its checkout answered "
    "(its confirmation e-mail's link carries it too); not needed when logged in.",
)
CART_TOKEN = OpenApiParameter(
    "Cart-Token",
    location=OpenApiParameter.HEADER,
    required=False,
    description="A guest's checkout: the anonymous cart's `token`; `email` is "
    "then required.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (at most 100 printable ASCII characters), "
    "e.g. a UUID made when the shopper pressed the button. A retry with the "
    "same key returns the order the first call created (200, same id) "
    "instead of placing another, also when the calls race. Only a checkout "
    "that succeeded is remembered: a refused one may be retried with the "
    "same key.",
)
TRANSITION_CONFLICT = OpenApiResponse(
    description="`invalid_transition`: the order's status does not allow it; "
    "the body's `order_status` is the order's current status."
)


@extend_schema_view(
    list=extend_schema(
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="List orders, newest first",
        description="A customer sees their own orders; staff see every order "
        "and may filter by `status` and `user`.",
    ),
    retrieve=extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="An order",
        description="The customer's own order, or any for staff; another "
        "customer's order is 404. A guest reads its order with the "
        "`Order-Token` header.",
        parameters=[ORDER_TOKEN],
    ),
    create=extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Check out the cart",
        description="Places an order for everything in the caller's cart, "
        "takes its stock and empties the cart, all or nothing. Shipping is the "
        "chosen `shipping_method`'s price (free at or above its `free_above`) "
        "where methods ship to the address's country; elsewhere the flat rate "
        "(SHIPPING_FLAT_RATE, free when the subtotal is at or above "
        "FREE_SHIPPING_THRESHOLD). Unpaid orders are cancelled after "
        "ORDER_PAYMENT_TIMEOUT_MINUTES. Limited per user, or per client IP for "
        "a guest (RATELIMIT_CHECKOUT), and per guest e-mail address "
        "(RATELIMIT_GUEST_CHECKOUT_EMAIL). A guest checks out its anonymous "
        "cart (`Cart-Token`) with an `email`; the answer's `access_token` "
        "reads the order from then on.",
        parameters=[IDEMPOTENCY_KEY, CART_TOKEN],
        request=CheckoutSerializer,
        responses={
            201: GuestOrderSerializer,
            200: OpenApiResponse(
                OrderSerializer,
                description="A retry with an Idempotency-Key already used by "
                "this customer: the order that the first call created.",
            ),
            400: OpenApiResponse(
                description="`cart_empty`, or `validation_error` with "
                "`errors` per field (`shipping_address.country`, "
                "`shipping_address_id`, `shipping_method`…)."
            ),
            409: OpenApiResponse(
                description="`insufficient_stock`: `errors` names each short "
                "or inactive product (`products.<id>`) and `shortages` lists "
                "them with the cart `item`, `requested` and `available`; or "
                "`price_changed`: the real total differs from `expected_total`, "
                "with the current `subtotal`, `shipping_cost` and `total`. "
                "Nothing was ordered or taken; the cart is unchanged."
            ),
            422: OpenApiResponse(
                description="`idempotency_key_reused`: the Idempotency-Key "
                "placed an order for a different request body; nothing changed."
            ),
            429: OpenApiResponse(
                description="`throttled`: too many checkouts (RATELIMIT_CHECKOUT)."
            ),
        },
    ),
    partial_update=extend_schema(
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Change an order's status (staff)",
        description="Only `status`, along pending → paid/cancelled, paid → "
        "shipped/cancelled, shipped → delivered. Marking an order paid records "
        "a manual payment of its total; cancelling puts the stock back. Any "
        "other field is a 400.",
        request=StatusUpdateSerializer,
        responses={200: OrderSerializer, 409: TRANSITION_CONFLICT},
    ),
)
class OrderViewSet(viewsets.GenericViewSet):
    request: AuthenticatedRequest
    serializer_class = OrderSerializer
    # The token's user read with its id and is_active only.
    authentication_classes = [LeanJWTAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    filterset_class = OrderFilter
    throttle_classes = [user_rate_limit("RATELIMIT_CHECKOUT", actions=["create"])]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Order.objects.none()
        user = self.request.user
        if not user.is_authenticated:
            # A guest reads the one order its Order-Token names.
            number = access.order_number_for(
                self.request.headers.get("Order-Token", "")
            )
            if number is None:
                raise NotAuthenticated(
                    "Log in, or send the guest order's Order-Token header."
                )
            return Order.objects.of_guests().filter(number=number).with_details()
        # Another customer's order is simply not found (404).
        return Order.objects.visible_to(user).with_details()

    def get_permissions(self):
        if self.action == "partial_update":
            return [IsStaff()]
        if self.action in GUEST_ACTIONS:
            # A guest checks out with a Cart-Token, and reads, pays and
            # cancels its order with the Order-Token the checkout gave.
            return [AllowAny()]
        return super().get_permissions()

    @property
    def shopper(self):
        """The customer, or None for a guest (services.place_order, pay_order)."""
        user = self.request.user
        return user if user.is_authenticated else None

    # Every answer is orders.queries' order, which OrderSerializer documents.
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # every list of the API is paged (settings)
        return self.get_paginated_response(
            [order_representation(order) for order in page]
        )

    def retrieve(self, request, pk=None):
        return Response(order_representation(self.get_object()))

    def create(self, request):
        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        checkout = dict(serializer.validated_data)
        email = checkout.pop("email", "")
        if self.shopper is None:
            limits.limit_guest_checkout(request, email)
            cart = cart_services.get_token_cart(
                token=request.headers.get("Cart-Token", "")
            )
            if cart is None:
                raise CartEmpty()
            checkout.update(guest_cart_id=cart.pk, email=email)
        placed = services.place_order(
            user=self.shopper,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            **checkout,
        )
        # A new order shows the rows just written, nothing read back; the
        # order a retry found reads its lines and history.
        data = dict(
            order_representation(
                placed.order, items=placed.items, history=placed.history
            )
        )
        if placed.order.user_id is None:
            # Only here: what reads the guest's order from now on.
            data["access_token"] = access.access_token(placed.order)
        if placed.created:
            return Response(data, status=status.HTTP_201_CREATED)
        return Response(data)

    def partial_update(self, request, pk=None):
        order = self.get_object()
        serializer = StatusUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.change_order_status(
            order=order, user=request.user, **serializer.validated_data
        )
        return self._answer(order)

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        parameters=[ORDER_TOKEN],
        summary="Cancel an order",
        description="The customer while it is pending; staff while it is "
        "pending or paid. The stock goes back.",
        request=None,
        responses={200: OrderSerializer, 409: TRANSITION_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = services.cancel_order(order=self.get_object(), user=self.shopper)
        return self._answer(order)

    @extend_schema(
        auth=LEAN_JWT_SESSION_OR_GUEST,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        parameters=[ORDER_TOKEN],
        summary="Pay for an order",
        description="The customer who placed it, while it is pending, through "
        "the configured gateway. Every attempt is recorded; the order becomes "
        "paid when the gateway approves its full total.",
        request=PaySerializer,
        responses={
            200: OrderSerializer,
            400: OpenApiResponse(
                description="`validation_error`: `errors.card_number` (fails "
                "the Luhn check) or `errors.payment_method`."
            ),
            402: OpenApiResponse(
                description="`payment_declined`: the gateway declined the card "
                "(`outcome` `declined`) or could not process it (`outcome` "
                "`error`). The order stays pending and may be paid again."
            ),
            403: OpenApiResponse(
                description="`permission_denied`: staff paying a customer's order."
            ),
            409: OpenApiResponse(
                description="`invalid_transition`: the order is not pending, or "
                "another payment of it is being processed (try again in a "
                "moment); the body's `order_status` is the order's current status."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        order = self.get_object()
        serializer = PaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.pay_order(
            order=order, user=self.shopper, **serializer.validated_data
        )
        return self._answer(order)

    def _answer(self, order, status_code=status.HTTP_200_OK):
        # Read back with its lines and history, as every answer shows it.
        order = Order.objects.with_details().get(pk=order.pk)
        return Response(order_representation(order), status=status_code)
