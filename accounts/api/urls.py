from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("users/me/addresses", views.AddressViewSet, basename="address")
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenObtainPairView.as_view(), name="auth-token"),
    path(
        "auth/token/refresh/",
        views.TokenRefreshView.as_view(),
        name="auth-token-refresh",
    ),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    *router.urls,
]
