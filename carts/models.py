from django.conf import settings
from django.db import models
from django.db.models import Q

MAX_LINE_QUANTITY = 1000


class CartQuerySet(models.QuerySet):
    def anonymous(self):
        return self.filter(user__isnull=True)


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CartQuerySet.as_manager()

    def __str__(self):
        owner = self.user or "anonymous"
        return f"Cart {self.pk} of {owner}"


class CartItem(models.Model):
    """One product in a cart; a product has at most one line per cart."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="cart_items"
    )
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One line per product, so stock is checked against the whole
            # quantity the cart holds of it.
            models.UniqueConstraint(
                fields=["cart", "product"], name="carts_item_one_line_per_product"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="carts_item_quantity_range",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} of product {self.product_id}"
