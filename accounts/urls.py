"""The account pages. Names follow django.contrib.auth's, which its views and
the admin's "forgotten your password?" link look up."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/register/", views.RegisterView.as_view(), name="register"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", views.AccountView.as_view(), name="account"),
    path(
        "account/password/",
        views.AccountPasswordView.as_view(),
        name="account-password",
    ),
    path(
        "account/sign-out-everywhere/",
        views.SignOutEverywhereView.as_view(),
        name="account-sign-out-everywhere",
    ),
    path(
        "account/addresses/", views.AddressListView.as_view(), name="account-addresses"
    ),
    path(
        "account/addresses/new/",
        views.AddressFormView.as_view(),
        name="account-address-add",
    ),
    path(
        "account/addresses/<int:pk>/",
        views.AddressFormView.as_view(),
        name="account-address-edit",
    ),
    path(
        "account/addresses/<int:pk>/delete/",
        views.AddressDeleteView.as_view(),
        name="account-address-delete",
    ),
    path(
        "account/addresses/<int:pk>/default/",
        views.AddressDefaultView.as_view(),
        name="account-address-default",
    ),
    path(
        "account/email/confirm/<str:token>/",
        views.EmailChangeConfirmView.as_view(),
        name="account-email-confirm",
    ),
]
