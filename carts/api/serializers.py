from collections.abc import Mapping

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carts import services
from carts.models import MAX_LINE_QUANTITY, Cart, CartItem
from catalog.models import Product, ProductVariant

QUANTITY_HELP = f"A whole number from 1 to {MAX_LINE_QUANTITY}."
GIVE_VARIANT = "Give the variant (or a product that has one variant)."


class CartProductSerializer(serializers.ModelSerializer):
    """The product of a line, as the catalog shows it now."""

    in_stock = serializers.BooleanField(read_only=True)
    image = serializers.SerializerMethodField(
        help_text="The product's first picture's URL, or null."
    )

    class Meta:
        model = Product
        fields = ["id", "slug", "name", "price", "image", "in_stock"]
        read_only_fields = fields

    def get_image(self, product) -> str | None:
        first = product.first_image
        if first is None:
            return None
        request = self.context.get("request")
        url = first.image.url
        return url if request is None else request.build_absolute_uri(url)


class CartVariantSerializer(serializers.ModelSerializer):
    """The variant of a line: which of the product's versions."""

    class Meta:
        model = ProductVariant
        fields = ["id", "sku", "options"]
        read_only_fields = fields
        extra_kwargs = {
            "options": {"help_text": "{option name: value}; {} for a default variant."}
        }


class CartItemSerializer(serializers.ModelSerializer):
    product = CartProductSerializer(read_only=True)
    variant = CartVariantSerializer(read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        read_only=True,
        help_text="The variant's current price.",
    )
    line_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True
    )
    discount = serializers.DecimalField(
        source="priced.discount",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="The line's part of the cart's discount.",
    )
    tax_rate = serializers.DecimalField(
        source="priced.tax_rate",
        max_digits=5,
        decimal_places=2,
        read_only=True,
        help_text='The tax rate on the line, in percent ("20.00").',
    )

    class Meta:
        model = CartItem
        fields = [
            "id",
            "product",
            "variant",
            "quantity",
            "unit_price",
            "line_total",
            "discount",
            "tax_rate",
        ]
        read_only_fields = fields


class CartWarningSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The line's id.")
    code = serializers.ChoiceField(choices=["insufficient_stock", "inactive"])
    available = serializers.IntegerField(
        help_text="Units for sale now (0 for an inactive product)."
    )


# The schema of the cart's answer, which carts.queries writes out.
class CartSerializer(serializers.ModelSerializer):
    """A cart priced at the catalog's current prices."""

    id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="null for a guest without a cart yet (no Cart-Token).",
    )
    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="A guest's cart: send it back as the `Cart-Token` header; "
        "null for a customer's cart.",
    )
    items = CartItemSerializer(many=True, read_only=True)
    item_count = serializers.IntegerField(
        read_only=True, help_text="Units in the cart: the sum of the quantities."
    )
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    shipping_country = serializers.CharField(
        source="price.country",
        read_only=True,
        help_text="Where the cart is priced for: the country set with "
        "PUT cart/shipping/, else the store's.",
    )
    shipping_method = serializers.SerializerMethodField(
        help_text="The code of the method chosen (PUT cart/shipping/), or null: "
        "then `shipping_cost` is the cheapest method's to `shipping_country`."
    )
    shipping_cost = serializers.DecimalField(
        source="price.breakdown.shipping_cost",
        max_digits=14,
        decimal_places=2,
        read_only=True,
    )
    discount = serializers.DecimalField(
        source="price.breakdown.discount",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="The voucher's discount on the order.",
    )
    voucher = serializers.CharField(
        source="price.voucher_code",
        read_only=True,
        allow_null=True,
        help_text="The code of the voucher applied, or null.",
    )
    tax = serializers.DecimalField(
        source="price.breakdown.tax",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="The tax included in the figures, or added to them "
        "(`prices_include_tax`).",
    )
    prices_include_tax = serializers.BooleanField(
        source="price.breakdown.prices_include_tax", read_only=True
    )
    total = serializers.DecimalField(
        source="price.breakdown.total",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="subtotal - discount + shipping_cost (+ tax when prices "
        "exclude it): what checkout charges.",
    )
    currency = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="Per line, what would stop a checkout now; empty when the "
        "cart can be checked out."
    )

    class Meta:
        model = Cart
        fields = [
            "id",
            "token",
            "items",
            "item_count",
            "subtotal",
            "shipping_country",
            "shipping_method",
            "shipping_cost",
            "discount",
            "voucher",
            "tax",
            "prices_include_tax",
            "total",
            "currency",
            "warnings",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"updated_at": {"allow_null": True}}

    def to_representation(self, instance):
        # Priced once, for the cart's figures and its lines'.
        instance.price = services.cart_price(cart=instance)
        priced = {line.line.key: line for line in instance.price.breakdown.lines}
        for item in instance.items.all():
            item.priced = priced[item.pk]
        return super().to_representation(instance)

    def get_shipping_method(self, cart) -> str | None:
        method = cart.price.shipping_method
        return None if method is None else method.code

    def get_currency(self, cart) -> str:
        return settings.STORE_CURRENCY

    @extend_schema_field(CartWarningSerializer(many=True))
    def get_warnings(self, cart) -> list[dict]:
        return CartWarningSerializer(services.cart_warnings(cart=cart), many=True).data  # type: ignore[return-value]  # many=True: a ListSerializer, whose data is a list


class AddItemSerializer(serializers.Serializer):
    """A variant, or a product that has exactly one active variant."""

    variant = serializers.PrimaryKeyRelatedField(
        queryset=ProductVariant.objects.active().filter(product__is_active=True),
        required=False,
        help_text="The id of a variant for sale.",
        error_messages={"does_not_exist": services.VARIANT_NOT_FOR_SALE},
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.active(),
        required=False,
        help_text="The id of a product for sale, accepted when it has exactly "
        "one active variant (else give `variant`).",
        error_messages={"does_not_exist": services.NOT_FOR_SALE},
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, help_text=QUANTITY_HELP
    )

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Named beside the other fields' errors, as a required field is.
            if (
                isinstance(data, Mapping)
                and not data.keys() & {"variant", "product"}
                and isinstance(error.detail, dict)
            ):
                error.detail.setdefault(
                    "variant", [serializers.ErrorDetail(GIVE_VARIANT, code="required")]
                )
            raise

    def validate(self, attrs):
        product = attrs.pop("product", None)
        if "variant" not in attrs:
            if product is None:
                raise serializers.ValidationError({"variant": GIVE_VARIANT})
            attrs["variant"] = services.sold_variant(product=product)
        elif product is not None and attrs["variant"].product_id != product.pk:
            raise serializers.ValidationError(
                {"variant": "This variant is not one of the product's."}
            )
        return attrs


class SetQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, help_text=QUANTITY_HELP
    )


class ShippingChoiceSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code (any case).")
    method = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The code of a method that ships to `country` "
        "(shipping-methods/?country=XX); required where any do.",
    )


class VoucherCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50, help_text="Any case.")
