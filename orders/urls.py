"""The checkout, order and order-history pages."""

from django.urls import path, re_path

from orders import views

app_name = "orders"

# Order numbers are upper-case letters, digits and hyphens (SW-7K3M-Q9XD);
# any other path under orders/ is simply not found.
NUMBER = r"(?P<number>[A-Z0-9-]{1,20})"

urlpatterns = [
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    re_path(rf"^orders/{NUMBER}/$", views.OrderDetailView.as_view(), name="detail"),
    re_path(rf"^orders/{NUMBER}/pay/$", views.PayView.as_view(), name="pay"),
    re_path(rf"^orders/{NUMBER}/cancel/$", views.CancelView.as_view(), name="cancel"),
    path("account/orders/", views.OrderHistoryView.as_view(), name="history"),
    path("account/orders/claim/", views.AskToClaimView.as_view(), name="ask-to-claim"),
    path("account/orders/claim/<str:token>/", views.ClaimView.as_view(), name="claim"),
]
