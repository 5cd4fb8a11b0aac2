from datetime import datetime
from decimal import Decimal
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q

from accounts.models import User
from catalog.models import Product
from core.money import CENT

MAX_LINE_QUANTITY = 1000
# The order of a cart's lines, as added; carts/queries.py's statement keeps it.
LINE_ORDERING = ["created_at", "id"]


class CartQuerySet(models.QuerySet["Cart"]):
    def anonymous(self) -> Self:
        return self.filter(user__isnull=True)

    def stale(self, *, updated_before: datetime) -> Self:
        """Anonymous carts nobody has changed since `updated_before`."""
        return self.anonymous().filter(updated_at__lt=updated_before)

    def with_lines(self) -> Self:
        """Carts with their lines, variants and products, in two queries.

        Reading a cart (its items, totals and warnings) then costs the same
        number of queries whatever its size.
        """
        return self.prefetch_related(
            Prefetch("items", queryset=CartItem.objects.with_product())
        )


class Cart(models.Model):
    """A shopper's cart: one per account, or one per session before login.

    Prices are not stored: lines are always priced from the catalog, so a
    cart can never hold a stale price.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cart",
        help_text="Empty for an anonymous shopper's session cart.",
    )
    # An API client's anonymous cart: the bearer value of its Cart-Token
    # header (a session's cart is found by its id in the session instead).
    token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    # Where the shopper said it goes (PUT cart/shipping/): the cart is priced
    # for this country, or for the store's (STORE_COUNTRY) until then.
    shipping_country = models.CharField(max_length=2, blank=True, default="")
    # The method chosen; null: none yet (the cheapest is shown).
    shipping_method = models.ForeignKey(
        "pricing.ShippingMethod",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    voucher = models.ForeignKey(
        "pricing.Voucher",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CartQuerySet.as_manager()

    class Meta:
        indexes = [
            # clear_stale_carts looks for old anonymous carts only.
            models.Index(
                fields=["updated_at"],
                condition=Q(user__isnull=True),
                name="carts_cart_anonymous_idx",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user or "anonymous"
        return f"Cart {self.pk} of {owner}"

    # The figures below read self.items.all(), so they cost no query on a
    # cart loaded with Cart.objects.with_lines().

    @property
    def item_count(self) -> int:
        """Units in the cart: the sum of the lines' quantities."""
        return sum(item.quantity for item in self.items.all())

    @property
    def subtotal(self) -> Decimal:
        """The lines' totals at the catalog's current prices."""
        total = sum((item.line_total for item in self.items.all()), Decimal("0"))
        return total.quantize(CENT)


class CartItemQuerySet(models.QuerySet["CartItem"]):
    def with_product(self) -> Self:
        """Lines with their variant, its product and the product's category."""
        return self.select_related("variant__product__category")

    def for_user(self, user: User) -> Self:
        """The lines of the user's own cart."""
        return self.filter(cart__user=user)


class CartItem(models.Model):
    """One variant of a product in a cart; a variant has at most one line per cart."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="cart_items"
    )
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CartItemQuerySet.as_manager()

    class Meta:
        ordering = LINE_ORDERING
        constraints = [
            # One line per variant, so stock is checked against the whole
            # quantity the cart holds of it.
            models.UniqueConstraint(
                fields=["cart", "variant"], name="carts_item_one_line_per_variant"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="carts_item_quantity_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of variant {self.variant_id}"

    @property
    def product(self) -> "Product":
        return self.variant.product

    @property
    def unit_price(self) -> Decimal:
        """The variant's price in the catalog now, its sale price during a sale."""
        return self.variant.current_price.quantize(CENT)

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)
