from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carts import services
from carts.models import CENT, MAX_LINE_QUANTITY, Cart, CartItem
from catalog.models import Product
from core.api import iso_datetime, money

QUANTITY_HELP = f"A whole number from 1 to {MAX_LINE_QUANTITY}."


class CartProductSerializer(serializers.ModelSerializer):
    """The product of a line, as the catalog shows it now."""

    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = ["id", "slug", "name", "price", "image", "in_stock"]
        read_only_fields = fields


class CartItemSerializer(serializers.ModelSerializer):
    product = CartProductSerializer(read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        read_only=True,
        help_text="The product's current price.",
    )
    line_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True
    )

    class Meta:
        model = CartItem
        fields = ["id", "product", "quantity", "unit_price", "line_total"]
        read_only_fields = fields


class CartWarningSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The line's id.")
    code = serializers.ChoiceField(choices=["insufficient_stock", "inactive"])
    available = serializers.IntegerField(
        help_text="Units for sale now (0 for an inactive product)."
    )


class CartSerializer(serializers.ModelSerializer):
    """A cart priced at the catalog's current prices."""

    items = CartItemSerializer(many=True, read_only=True)
    item_count = serializers.IntegerField(
        read_only=True, help_text="Units in the cart: the sum of the quantities."
    )
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    currency = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="Per line, what would stop a checkout now; empty when the "
        "cart can be checked out."
    )

    class Meta:
        model = Cart
        fields = [
            "id",
            "items",
            "item_count",
            "subtotal",
            "currency",
            "warnings",
            "updated_at",
        ]
        read_only_fields = fields

    def get_currency(self, cart) -> str:
        return settings.STORE_CURRENCY

    @extend_schema_field(CartWarningSerializer(many=True))
    def get_warnings(self, cart) -> list[dict]:
        return CartWarningSerializer(services.cart_warnings(cart=cart), many=True).data


def cart_representation(rows, *, request=None) -> dict:
    """A cart as CartSerializer shows it, built from `lines_of_user()` rows.

    The rows of one cart (at least one). CartSerializer's nested
    ModelSerializers, the lines' prefetch and the products' model instances
    were most of a cart read; this writes the same fields by hand, money as
    DRF's DecimalField writes it. CartSerializer still gives the schema.
    """
    image_storage = Product._meta.get_field("image").storage
    items, warnings = [], []
    item_count, subtotal = 0, Decimal("0")
    for row in rows:
        if row["item_id"] is None:
            continue  # the one row of an empty cart
        quantity = row["quantity"]
        stock = row["product_stock"]
        unit_price = row["product_price"].quantize(CENT)
        line_total = (unit_price * quantity).quantize(CENT)
        item_count += quantity
        subtotal += line_total
        image = row["product_image"] or None
        if image:
            image = image_storage.url(image)
            if request is not None:
                image = request.build_absolute_uri(image)
        items.append(
            {
                "id": row["item_id"],
                "product": {
                    "id": row["product_id"],
                    "slug": row["product_slug"],
                    "name": row["product_name"],
                    "price": money(unit_price),
                    "image": image,
                    "in_stock": stock > 0,
                },
                "quantity": quantity,
                "unit_price": money(unit_price),
                "line_total": money(line_total),
            }
        )
        warning = services.line_warning(
            item_id=row["item_id"],
            quantity=quantity,
            is_active=row["product_is_active"],
            stock=stock,
        )
        if warning is not None:
            warnings.append(warning)
    cart = rows[0]
    return {
        "id": cart["cart_id"],
        "items": items,
        "item_count": item_count,
        "subtotal": money(subtotal),
        "currency": settings.STORE_CURRENCY,
        "warnings": warnings,
        "updated_at": iso_datetime(cart["cart_updated_at"]),
    }


class AddItemSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.active(),
        help_text="The id of a product for sale.",
        error_messages={"does_not_exist": services.NOT_FOR_SALE},
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, help_text=QUANTITY_HELP
    )


class SetQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, help_text=QUANTITY_HELP
    )
