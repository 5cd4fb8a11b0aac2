"""The real URLconf plus views that use the rate-limit building blocks."""

from django.urls import path
from django_ratelimit.exceptions import Ratelimited
from rest_framework import viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.ratelimit import user_rate_limit
from shopswift.urls import urlpatterns as project_urlpatterns


class CartLike(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]
    throttle_classes = [user_rate_limit("RATELIMIT_CART_WRITE")]

    def list(self, request):
        return Response({"items": []})

    def create(self, request):
        return Response({"created": True}, status=201)


class CheckoutLike(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]
    throttle_classes = [user_rate_limit("RATELIMIT_CHECKOUT", actions=["create"])]

    def create(self, request):
        return Response({"order": 1}, status=201)

    @action(detail=False, methods=["post"])
    def other(self, request):
        return Response({"other": True})


@api_view(["GET"])
@permission_classes([AllowAny])
def bare_ratelimited(request):
    raise Ratelimited()


router = SimpleRouter()
router.register("api/v1/test/cart", CartLike, basename="test-cart")
router.register("api/v1/test/checkout", CheckoutLike, basename="test-checkout")

urlpatterns = [
    *router.urls,
    path("api/v1/test/ratelimited/", bare_ratelimited),
    *project_urlpatterns,
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
