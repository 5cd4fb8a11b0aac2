"""The cart page and its forms."""

from django.urls import path

from carts import views

app_name = "carts"

urlpatterns = [
    path("cart/", views.CartView.as_view(), name="detail"),
    path("cart/add/", views.AddItemView.as_view(), name="add"),
    path("cart/items/<int:pk>/", views.UpdateLineView.as_view(), name="update"),
    path("cart/items/<int:pk>/remove/", views.RemoveLineView.as_view(), name="remove"),
    path("cart/voucher/", views.ApplyVoucherView.as_view(), name="voucher"),
    path(
        "cart/voucher/remove/", views.RemoveVoucherView.as_view(), name="voucher-remove"
    ),
]
