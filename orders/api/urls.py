from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api.views import OrderViewSet, ShippingMethodsView, ShippingZoneViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("shipping-zones", ShippingZoneViewSet, basename="shipping-zone")

urlpatterns = [
    path("shipping-methods/", ShippingMethodsView.as_view(), name="shipping-methods"),
    *router.urls,
]
