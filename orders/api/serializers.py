from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.addresses import FIELDS, clean_address
from catalog.models import Product, ProductVariant
from orders import services
from orders.models import (
    Order,
    OrderItem,
    OrderStatusChange,
)


class ShippingAddressSerializer(serializers.Serializer):
    """Where the order goes; `country` is an ISO 3166-1 alpha-2 code."""

    full_name = serializers.CharField(max_length=FIELDS["full_name"][1])
    line1 = serializers.CharField(max_length=FIELDS["line1"][1])
    line2 = serializers.CharField(
        max_length=FIELDS["line2"][1], required=False, allow_blank=True, default=""
    )
    city = serializers.CharField(max_length=FIELDS["city"][1])
    postal_code = serializers.CharField(max_length=FIELDS["postal_code"][1])
    country = serializers.CharField(
        min_length=2,
        max_length=2,
        help_text="ISO 3166-1 alpha-2 code, such as US or DE (any case).",
    )
    phone = serializers.CharField(
        max_length=FIELDS["phone"][1],
        required=False,
        allow_blank=True,
        default="",
        help_text="Digits, spaces, + ( ) . - (5 to 20 digits).",
    )

    def validate(self, attrs):
        try:
            return clean_address(attrs)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None


class CheckoutSerializer(serializers.Serializer):
    email = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text="A guest's e-mail address (required with a `Cart-Token`): "
        "where the order's e-mails go; ignored for a customer, whose account's "
        "address is used.",
    )
    shipping_address = ShippingAddressSerializer(
        required=False, help_text="Required unless `shipping_address_id` is given."
    )
    shipping_address_id = serializers.IntegerField(
        required=False,
        help_text="The id of an address in the caller's address book, instead "
        "of `shipping_address`: the order keeps a copy.",
    )
    save_address = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Keep `shipping_address` in the caller's address book too.",
    )
    shipping_method = serializers.CharField(
        max_length=50,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The `code` of a method that ships to the address's country "
        "(shipping-methods/?country=XX); required when there are any, left out "
        "where none do (the store's flat rate applies).",
    )
    note = serializers.CharField(
        max_length=services.NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
    )
    expected_total = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="The total the shopper was shown; a different real total is "
        "409 `price_changed` and nothing is ordered.",
    )


class PaySerializer(serializers.Serializer):
    payment_method = serializers.CharField(
        max_length=50, help_text='`"test-card"` with the built-in gateway.'
    )
    card_number = serializers.CharField(
        max_length=40,
        trim_whitespace=True,
        help_text="With the test-card gateway: 4242424242424242 is approved, "
        "4000000000000002 declined; a number failing the Luhn check is a 400.",
    )


class StatusUpdateSerializer(serializers.Serializer):
    """Staff's PATCH: the status is the only field that may change."""

    status = serializers.ChoiceField(choices=Order.Status.choices)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {field: ["This field cannot be changed."] for field in sorted(unknown)}
            )
        return attrs


class OrderItemSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField[Product](
        read_only=True,
        allow_null=True,
        help_text="The product's id, or null once the product is deleted.",
    )
    variant = serializers.PrimaryKeyRelatedField[ProductVariant](
        read_only=True,
        allow_null=True,
        help_text="The variant's id, or null once the variant is deleted.",
    )

    class Meta:
        model = OrderItem
        fields = [
            "product",
            "variant",
            "sku",
            "name",
            "options",
            "unit_price",
            "quantity",
            "line_total",
            "discount",
            "tax_rate",
        ]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["status", "at"]
        read_only_fields = fields


def address_output_field(name, **kwargs):
    """A shipping address field as an order shows it: "" when the order has none."""
    return serializers.CharField(
        read_only=True, default="", max_length=FIELDS[name][1], **kwargs
    )


class AddressOutputSerializer(serializers.Serializer):
    """Where the order goes; `country` is an ISO 3166-1 alpha-2 code."""

    full_name = address_output_field("full_name")
    line1 = address_output_field("line1")
    line2 = address_output_field("line2")
    city = address_output_field("city")
    postal_code = address_output_field("postal_code")
    country = address_output_field(
        "country", help_text="ISO 3166-1 alpha-2 code, such as US or DE."
    )
    phone = address_output_field(
        "phone", help_text="Digits, spaces, + ( ) . - (5 to 20 digits)."
    )


# The schema of every order answer, which orders.queries writes out.
class ShippingMethodNameSerializer(serializers.Serializer):
    code = serializers.CharField(source="shipping_method_code")
    name = serializers.CharField(source="shipping_method_name")


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    shipping_method = serializers.SerializerMethodField(
        help_text="The method chosen at checkout, as named then; null where "
        "the store's flat rate applied."
    )
    shipping_address = AddressOutputSerializer(read_only=True)
    status_history = StatusChangeSerializer(
        source="history", many=True, read_only=True, help_text="Oldest first."
    )
    voucher = serializers.SerializerMethodField(
        help_text="The code of the voucher used, or null."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "email",
            "items",
            "subtotal",
            "discount_total",
            "shipping_cost",
            "tax_total",
            "prices_include_tax",
            "total",
            "currency",
            "voucher",
            "shipping_address",
            "shipping_method",
            "note",
            "created_at",
            "updated_at",
            "status_history",
        ]
        read_only_fields = fields

    def get_voucher(self, order: Order) -> str | None:
        return order.voucher_code or None

    @extend_schema_field(ShippingMethodNameSerializer(allow_null=True))
    def get_shipping_method(self, order: Order) -> dict[str, str] | None:
        if not order.shipping_method_code:
            return None
        return ShippingMethodNameSerializer(order).data


class GuestOrderSerializer(OrderSerializer):
    """A guest's order as its checkout answers it, with what reads it later."""

    access_token = serializers.CharField(
        read_only=True,
        help_text="For a guest's order only: send it as the `Order-Token` "
        "header to read, pay or cancel the order without an account.",
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "access_token"]
        read_only_fields = fields
