from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.api import iso_datetime, money
from orders import services
from orders.addresses import FIELDS, clean_shipping_address
from orders.models import Order, OrderItem, OrderStatusChange


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
            return clean_shipping_address(attrs)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None


class CheckoutSerializer(serializers.Serializer):
    shipping_address = ShippingAddressSerializer()
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
    product = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The product's id, or null once the product is deleted.",
    )

    class Meta:
        model = OrderItem
        fields = ["product", "sku", "name", "unit_price", "quantity", "line_total"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["status", "at"]
        read_only_fields = fields


class AddressOutputSerializer(ShippingAddressSerializer):
    def to_representation(self, instance):
        return {field: instance.get(field, "") for field in FIELDS}


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    shipping_address = AddressOutputSerializer(read_only=True)
    status_history = StatusChangeSerializer(
        source="history", many=True, read_only=True, help_text="Oldest first."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "items",
            "subtotal",
            "shipping_cost",
            "total",
            "currency",
            "shipping_address",
            "note",
            "created_at",
            "updated_at",
            "status_history",
        ]
        read_only_fields = fields

    def to_representation(self, order):
        return order_representation(
            order, items=order.items.all(), history=order.history.all()
        )


def order_representation(order, *, items, history):
    """The order as OrderSerializer shows it, with these lines and history.

    OrderSerializer's fields, written out as DRF writes them: its generic
    path copies every field of the three nested serializers for each use,
    which cost a checkout as much CPU as two of its statements (the schema
    still comes from the fields).
    """
    address = order.shipping_address
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "items": [
            {
                "product": item.product_id,
                "sku": item.sku,
                "name": item.name,
                "unit_price": money(item.unit_price),
                "quantity": item.quantity,
                "line_total": money(item.line_total),
            }
            for item in items
        ],
        "subtotal": money(order.subtotal),
        "shipping_cost": money(order.shipping_cost),
        "total": money(order.total),
        "currency": order.currency,
        "shipping_address": {field: address.get(field, "") for field in FIELDS},
        "note": order.note,
        "created_at": iso_datetime(order.created_at),
        "updated_at": iso_datetime(order.updated_at),
        "status_history": [
            {"status": change.status, "at": iso_datetime(change.at)}
            for change in history
        ],
    }
