"""The store's pricing rules over the API: shipping zones (staff), the methods
a shopper is offered, tax rates and vouchers (staff)."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasAdminPermissions
from pricing import services
from pricing.api.serializers import (
    ShippingMethodSerializer,
    ShippingZoneSerializer,
    TaxRateSerializer,
    VoucherSerializer,
)
from pricing.models import ShippingZone, TaxRate, Voucher


@extend_schema_view(
    list=extend_schema(summary="Shipping zones (staff)"),
    create=extend_schema(summary="Add a shipping zone with its methods (staff)"),
    retrieve=extend_schema(summary="A shipping zone (staff)"),
    update=extend_schema(summary="Change a shipping zone and its methods (staff)"),
    partial_update=extend_schema(
        summary="Change a shipping zone (staff)",
        description="`methods`, when given, is the zone's whole list after it.",
    ),
    destroy=extend_schema(summary="Delete a shipping zone and its methods (staff)"),
)
class ShippingZoneViewSet(viewsets.ModelViewSet):
    """/api/v1/shipping-zones/: the zones and methods staff ship by."""

    queryset = ShippingZone.objects.prefetch_related("methods")
    serializer_class = ShippingZoneSerializer
    permission_classes = [HasAdminPermissions]

    # A zone's list of methods adds, changes and deletes methods: the
    # admin's inline asks these of whoever edits them.
    method_permissions = [
        f"pricing.{action}_shippingmethod" for action in ("add", "change", "delete")
    ]

    def perform_create(self, serializer):
        self._check_method_permissions(serializer.validated_data)
        serializer.instance = self._save(ShippingZone(), serializer.validated_data)

    def perform_update(self, serializer):
        self._check_method_permissions(serializer.validated_data)
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    def _check_method_permissions(self, data):
        if "methods" in data and not self.request.user.has_perms(
            self.method_permissions
        ):
            raise PermissionDenied(
                "Changing a zone's methods needs the shipping method permissions."
            )

    @staticmethod
    def _save(zone, data):
        methods = data.get("methods")
        for name in ("name", "countries"):
            if name in data:
                setattr(zone, name, data[name])
        zone = services.save_shipping_zone(zone=zone, methods=methods)
        # The answer shows the methods as saved.
        return ShippingZone.objects.prefetch_related("methods").get(pk=zone.pk)


class ShippingMethodsView(APIView):
    """GET /api/v1/shipping-methods/?country=XX: what a shopper there is offered."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="The shipping methods for a country",
        parameters=[
            OpenApiParameter(
                "country",
                str,
                required=True,
                description="ISO 3166-1 alpha-2 code (any case).",
            )
        ],
        responses={
            200: ShippingMethodSerializer(many=True),
            400: OpenApiResponse(
                description="`validation_error` naming `country`: missing or "
                "not a country code."
            ),
        },
    )
    def get(self, request):
        methods = services.shipping_methods_for(
            country=request.query_params.get("country", "")
        )
        return Response(ShippingMethodSerializer(methods, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Tax rates (staff)"),
    create=extend_schema(
        summary="Add a tax rate (staff)",
        description="One rate a tax class in a country: another for the same "
        "`country` and `tax_class` is 400 naming `tax_class`.",
    ),
    retrieve=extend_schema(summary="A tax rate (staff)"),
    update=extend_schema(summary="Change a tax rate (staff)"),
    partial_update=extend_schema(summary="Change a tax rate (staff)"),
    destroy=extend_schema(summary="Delete a tax rate (staff)"),
)
class TaxRateViewSet(viewsets.ModelViewSet):
    """/api/v1/tax-rates/: the tax on goods shipped to a country, by tax class."""

    queryset = TaxRate.objects.all()
    serializer_class = TaxRateSerializer
    permission_classes = [HasAdminPermissions]

    def perform_create(self, serializer):
        serializer.instance = services.save_tax_rate(
            rate=TaxRate(**serializer.validated_data)
        )

    def perform_update(self, serializer):
        rate = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(rate, name, value)
        serializer.instance = services.save_tax_rate(rate=rate)


@extend_schema_view(
    list=extend_schema(summary="Vouchers (staff)"),
    create=extend_schema(
        summary="Add a voucher (staff)",
        description="Its `code` is matched in any case and kept upper case; "
        "another voucher's code in any case is 400 naming `code`.",
    ),
    retrieve=extend_schema(summary="A voucher (staff)"),
    update=extend_schema(summary="Change a voucher (staff)"),
    partial_update=extend_schema(summary="Change a voucher (staff)"),
    destroy=extend_schema(
        summary="Delete a voucher (staff)",
        description="A voucher orders have used is kept: 409 `conflict` "
        "(end it instead).",
    ),
)
class VoucherViewSet(viewsets.ModelViewSet):
    """/api/v1/vouchers/: the discount codes shoppers type in."""

    queryset = Voucher.objects.prefetch_related("categories", "products")
    serializer_class = VoucherSerializer
    permission_classes = [HasAdminPermissions]

    def perform_create(self, serializer):
        serializer.instance = self._save(Voucher(), serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    @staticmethod
    def _save(voucher, data):
        # What it covers is set by the service (None: unchanged).
        covers = {name: data.get(name) for name in VOUCHER_COVERS}
        for name, value in data.items():
            if name not in VOUCHER_COVERS:
                setattr(voucher, name, value)
        voucher = services.save_voucher(voucher=voucher, **covers)
        # The answer shows what it covers as saved.
        return Voucher.objects.prefetch_related("categories", "products").get(
            pk=voucher.pk
        )


VOUCHER_COVERS = ("categories", "products")
