from django.urls import path

from carts.api.views import CartItemViewSet, CartViewSet

cart = CartViewSet.as_view({"get": "retrieve", "delete": "clear"})
items = CartItemViewSet.as_view({"post": "create"})
item = CartItemViewSet.as_view({"patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("cart/", cart, name="cart"),
    path("cart/items/", items, name="cart-items"),
    path("cart/items/<int:pk>/", item, name="cart-item"),
]
