from rest_framework import serializers

from catalog.models import Category, Product
from pricing.models import ShippingMethod, ShippingZone, TaxRate, Voucher


class ShippingMethodSerializer(serializers.ModelSerializer):
    """A way to ship, as shoppers and staff see it."""

    free_above = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        required=False,
        help_text="Free when the subtotal is at or above this; null: never.",
    )

    class Meta:
        model = ShippingMethod
        fields = ["code", "name", "price", "free_above", "estimated_days", "max_weight"]
        # A code taken is the service's to say, for the whole zone at once.
        extra_kwargs: dict[str, dict[str, list[object]]] = {"code": {"validators": []}}


class ShippingZoneSerializer(serializers.ModelSerializer):
    """A zone with its countries and its whole list of methods.

    Shapes only: pricing.services.save_shipping_zone checks the countries and
    the methods' codes.
    """

    countries = serializers.ListField(
        child=serializers.CharField(max_length=2),
        help_text="ISO 3166-1 alpha-2 codes (any case).",
    )
    methods = ShippingMethodSerializer(
        many=True,
        required=False,
        help_text="On a write, the zone's methods after it: matched by `code`, "
        "those left out are deleted.",
    )

    class Meta:
        model = ShippingZone
        fields = ["id", "name", "countries", "methods"]


class TaxRateSerializer(serializers.ModelSerializer):
    """A tax rate for a country and a tax class.

    Shapes only: pricing.services.save_tax_rate checks the country and that
    the class has no other rate there.
    """

    country = serializers.CharField(
        max_length=2, help_text="ISO 3166-1 alpha-2 code (any case)."
    )

    class Meta:
        model = TaxRate
        fields = ["id", "country", "tax_class", "rate"]
        extra_kwargs: dict[str, dict[str, str]] = {
            "tax_class": {
                "help_text": '"standard", or a class set on products (such as '
                '"books"): their rate where the country has one.'
            },
            "rate": {"help_text": 'Percent: "20.00" is 20 %.'},
        }
        # A class taken in the country is the service's to say, naming
        # `tax_class`.
        validators: list[object] = []


class VoucherSerializer(serializers.ModelSerializer):
    """A voucher, naming the categories and products it is limited to by slug.

    Shapes only: pricing.services.save_voucher checks the code (unique in any
    case, kept upper case), the value for the kind and the window.
    """

    categories = serializers.SlugRelatedField(
        many=True,
        required=False,
        slug_field="slug",
        queryset=Category.objects.all(),
        help_text="Only for products of these categories and their "
        "subcategories (with `products`); none of either: the whole cart.",
    )
    products = serializers.SlugRelatedField(
        many=True, required=False, slug_field="slug", queryset=Product.objects.all()
    )

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "kind",
            "value",
            "min_subtotal",
            "starts_at",
            "ends_at",
            "usage_limit",
            "once_per_customer",
            "categories",
            "products",
            "used_count",
        ]
        extra_kwargs: dict[str, dict[str, object]] = {
            # A code taken (in any case) is the service's to say.
            "code": {"validators": [], "help_text": "Matched in any case."},
            "min_subtotal": {
                "help_text": "The subtotal must be at least this; null: any."
            },
            "ends_at": {"help_text": "Valid up to, not including, this; null: open."},
            "usage_limit": {"help_text": "Orders that may use it in all; null: any."},
        }
        validators: list[object] = []
