"""The real URLconf plus a few views that exercise the API's conventions."""

from django.db import OperationalError
from django.http import HttpResponse
from django.urls import path
from rest_framework import generics, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from shopswift.urls import urlpatterns as project_urlpatterns


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    quantity = serializers.IntegerField(min_value=1)


@api_view(["POST"])
@permission_classes([AllowAny])
def echo(request):
    serializer = EchoSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(serializer.validated_data)


@api_view(["GET"])
@permission_classes([AllowAny])
def api_failure(request):
    raise RuntimeError("database password is hunter2")


@api_view(["GET"])
def default_permission(request):
    return Response({"reached": True})


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def authenticated_only(request):
    return Response({"reached": True})


@api_view(["GET"])
@permission_classes([AllowAny])
def api_database_down(request):
    raise OperationalError("connection to server at 127.0.0.1 failed")


def page_database_down(request):
    raise OperationalError("connection to server at 127.0.0.1 failed")


def plain_form(request):
    """A plain Django view under /api/, guarded by the CSRF middleware."""
    return HttpResponse("accepted")


def page_failure(request):
    raise RuntimeError("database password is hunter2")


def session_only(request):
    """A page that reads the session and never the user."""
    return HttpResponse(request.session.get("theme", "plain"))


class EmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["email"]


class UserEmails(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = EmailSerializer
    queryset = User.objects.order_by("email")


urlpatterns = [
    path("api/v1/test/echo/", echo),
    path("api/v1/test/failure/", api_failure),
    path("api/v1/test/default-permission/", default_permission),
    path("api/v1/test/authenticated-only/", authenticated_only),
    path("api/v1/test/emails/", UserEmails.as_view()),
    path("api/v1/test/form/", plain_form),
    path("api/v1/test/database-down/", api_database_down),
    path("test/database-down/", page_database_down),
    path("test/page-failure/", page_failure),
    path("test/session-only/", session_only),
    *project_urlpatterns,
]

handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
