"""The checkout, order and order-history pages."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="detail"),
    path("orders/<str:number>/pay/", views.PayView.as_view(), name="pay"),
    path("orders/<str:number>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("account/orders/", views.OrderHistoryView.as_view(), name="history"),
]
