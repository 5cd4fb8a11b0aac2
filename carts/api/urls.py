from django.urls import path

from carts.api.views import CartItemViewSet, CartPricingViewSet, CartViewSet

cart = CartViewSet.as_view({"get": "retrieve", "delete": "clear"})
items = CartItemViewSet.as_view({"post": "create"})
item = CartItemViewSet.as_view({"patch": "partial_update", "delete": "destroy"})
shipping = CartPricingViewSet.as_view({"put": "shipping"})
voucher = CartPricingViewSet.as_view(
    {"post": "apply_voucher", "delete": "remove_voucher"}
)

urlpatterns = [
    path("cart/", cart, name="cart"),
    path("cart/items/", items, name="cart-items"),
    path("cart/items/<int:pk>/", item, name="cart-item"),
    path("cart/shipping/", shipping, name="cart-shipping"),
    path("cart/voucher/", voucher, name="cart-voucher"),
]
