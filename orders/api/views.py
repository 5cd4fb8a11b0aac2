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
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import (
    LEAN_JWT_OR_SESSION_AUTH,
    AuthenticatedRequest,
    LeanJWTAuthentication,
)
from accounts.permissions import IsStaff
from core.ratelimit import user_rate_limit
from orders import services
from orders.api.filters import OrderFilter
from orders.api.serializers import (
    CheckoutSerializer,
    OrderSerializer,
    PaySerializer,
    StatusUpdateSerializer,
)
from orders.models import Order
from orders.queries import order_representation

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
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="An order",
        description="The customer's own order, or any for staff; another "
        "customer's order is 404.",
    ),
    create=extend_schema(
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Check out the cart",
        description="Places an order for everything in the caller's cart, "
        "takes its stock and empties the cart, all or nothing. Shipping is the "
        "chosen `shipping_method`'s price (free at or above its `free_above`) "
        "where methods ship to the address's country; elsewhere the flat rate "
        "(SHIPPING_FLAT_RATE, free when the subtotal is at or above "
        "FREE_SHIPPING_THRESHOLD). Unpaid orders are cancelled after "
        "ORDER_PAYMENT_TIMEOUT_MINUTES. Limited per user (RATELIMIT_CHECKOUT).",
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutSerializer,
        responses={
            201: OrderSerializer,
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
        # Another customer's order is simply not found (404).
        return Order.objects.visible_to(self.request.user).with_details()

    def get_permissions(self):
        if self.action == "partial_update":
            return [IsStaff()]
        return super().get_permissions()

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
        placed = services.place_order(
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            **serializer.validated_data,
        )
        # A new order shows the rows just written, nothing read back; the
        # order a retry found reads its lines and history.
        data = order_representation(
            placed.order, items=placed.items, history=placed.history
        )
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
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
        summary="Cancel an order",
        description="The customer while it is pending; staff while it is "
        "pending or paid. The stock goes back.",
        request=None,
        responses={200: OrderSerializer, 409: TRANSITION_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = services.cancel_order(order=self.get_object(), user=request.user)
        return self._answer(order)

    @extend_schema(
        auth=LEAN_JWT_OR_SESSION_AUTH,  # type: ignore[arg-type]  # drf-spectacular hints str, takes dicts
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
            order=order, user=request.user, **serializer.validated_data
        )
        return self._answer(order)

    def _answer(self, order, status_code=status.HTTP_200_OK):
        # Read back with its lines and history, as every answer shows it.
        order = Order.objects.with_details().get(pk=order.pk)
        return Response(order_representation(order), status=status_code)
