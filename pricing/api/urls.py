from django.urls import path
from rest_framework.routers import SimpleRouter

from pricing.api.views import (
    ShippingMethodsView,
    ShippingZoneViewSet,
    TaxRateViewSet,
    VoucherViewSet,
)

router = SimpleRouter()
router.register("shipping-zones", ShippingZoneViewSet, basename="shipping-zone")
router.register("tax-rates", TaxRateViewSet, basename="tax-rate")
router.register("vouchers", VoucherViewSet, basename="voucher")

urlpatterns = [
    path("shipping-methods/", ShippingMethodsView.as_view(), name="shipping-methods"),
    *router.urls,
]
