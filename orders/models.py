import secrets
from datetime import datetime
from decimal import Decimal
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse

from accounts.models import User
from pricing.pipeline import tax_rates_of

# Crockford's base32 alphabet: no I, L, O or U, so a number read aloud or
# copied by hand cannot be mistaken for another.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_PREFIX = "SW"


def generate_order_number() -> str:
    """Return a random reference such as SW-7K3M-Q9XD (40 bits of randomness).

    Numbers are drawn with `secrets`, so knowing one order's number tells
    nothing about another's; the unique constraint catches the rare clash.
    """
    code = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"{NUMBER_PREFIX}-{code[:4]}-{code[4:]}"


class OrderQuerySet(models.QuerySet["Order"]):
    def for_user(self, user: User) -> Self:
        """The orders the user placed."""
        return self.filter(user=user)

    def of_guests(self) -> Self:
        """Orders placed as a guest and not claimed by an account."""
        return self.filter(user__isnull=True)

    def of_guest(self, email: str) -> Self:
        """Orders placed as a guest with this address (any case), unclaimed."""
        return self.of_guests().filter(email__iexact=email)

    def visible_to(self, user: User) -> Self:
        """Every order for staff, their own for anyone else."""
        if user.is_staff:
            return self.all()
        return self.for_user(user)

    def with_details(self) -> Self:
        """Orders with their customer, lines and status history (three queries)."""
        return self.select_related("user").prefetch_related("items", "history")

    def pending(self) -> Self:
        return self.filter(status=Order.Status.PENDING)

    def unpaid_since(self, moment: datetime) -> Self:
        """Pending orders placed before `moment`, oldest first."""
        return self.pending().filter(created_at__lt=moment).order_by("created_at", "pk")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True, editable=False)
    # A customer with orders cannot be deleted (409 in the API): the orders
    # are the store's accounts. Deactivate the account instead. Empty for a
    # guest's order until the owner of its e-mail address claims it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        # orders_order_user_idx starts with the user.
        db_index=False,
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING
    )
    # Where the confirmation went: the customer's address when they ordered.
    email = models.EmailField(blank=True, default="", db_default="")
    # The figures of pricing.pipeline: total = subtotal - discount_total +
    # shipping_cost, + tax_total when prices exclude tax (else it is part of
    # the lines' prices).
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    discount_total = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),
    )
    shipping_cost = models.DecimalField(max_digits=10, decimal_places=2)
    tax_total = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),
    )
    prices_include_tax = models.BooleanField(default=False, db_default=False)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    # The voucher used, by its code then ("" for none); the row is kept for
    # the store's figures and is null once deleted.
    voucher = models.ForeignKey(
        "pricing.Voucher",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    voucher_code = models.CharField(
        "voucher", max_length=50, blank=True, default="", db_default=""
    )
    # The automatic promotions that took something off its lines.
    promotions = models.ManyToManyField(
        "pricing.Promotion", blank=True, related_name="orders"
    )
    # {full_name, line1, line2, city, postal_code, country, phone}, checked
    # by accounts.addresses.clean_address before it gets here.
    shipping_address = models.JSONField()
    # The shipping method chosen, as it was named then ("" for the store's
    # flat rule, where no zone serves the country).
    shipping_method_code = models.CharField(
        max_length=50, blank=True, default="", db_default=""
    )
    shipping_method_name = models.CharField(
        "shipping method", max_length=100, blank=True, default="", db_default=""
    )
    note = models.TextField(blank=True)
    # The client's Idempotency-Key of the checkout that created the order.
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    # The SHA-256 of that checkout's cleaned request, so that the key sent
    # again with another request is refused, not answered with this order
    # ("" on orders placed before it was kept: any request matches). The
    # database default lets the release before this one insert orders
    # while a deploy runs the migration.
    idempotency_fingerprint = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=Decimal("0"))
                & Q(shipping_cost__gte=Decimal("0"))
                & Q(discount_total__gte=Decimal("0"))
                & Q(discount_total__lte=F("subtotal"))
                & Q(tax_total__gte=Decimal("0")),
                name="orders_order_amounts_in_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    prices_include_tax=True,
                    total=F("subtotal") - F("discount_total") + F("shipping_cost"),
                )
                | Q(
                    prices_include_tax=False,
                    total=F("subtotal")
                    - F("discount_total")
                    + F("shipping_cost")
                    + F("tax_total"),
                ),
                name="orders_order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "paid", "shipped", "delivered", "cancelled"]
                ),
                name="orders_order_status_known",
            ),
            # A retried checkout finds the order its first attempt created;
            # two racing retries cannot both insert one.
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="orders_order_one_per_idempotency_key",
            ),
            # A guest's retried checkout, likewise, by its e-mail address.
            models.UniqueConstraint(
                fields=["email", "idempotency_key"],
                condition=Q(user__isnull=True) & ~Q(idempotency_key=""),
                name="orders_guest_order_one_per_idempotency_key",
            ),
            # Someone to tell: the customer, or the guest's address.
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""),
                name="orders_order_customer_or_email",
            ),
        ]
        indexes = [
            # A guest's orders, for the owner of the address to claim.
            models.Index(
                Upper("email"),
                condition=Q(user__isnull=True),
                name="orders_order_guest_email_idx",
            ),
            # A customer's orders, newest first.
            models.Index(
                fields=["user", "-created_at", "-id"], name="orders_order_user_idx"
            ),
            # Staff's list filtered by status, and the expiry job (pending,
            # oldest first).
            models.Index(
                fields=["status", "created_at"], name="orders_order_status_idx"
            ),
            # Staff's unfiltered list, newest first.
            models.Index(fields=["-created_at", "-id"], name="orders_order_newest_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.number])

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def discount_names(self) -> str:
        """What its discount was made of: its promotions, then its voucher."""
        if not self.discount_total:
            return ""
        names = [promotion.name for promotion in self.promotions.all()]
        if self.voucher_code:
            names.append(self.voucher_code)
        return ", ".join(names)

    @property
    def recipient(self) -> str:
        """Where its e-mails go: the customer's address now, else the guest's."""
        return self.user.email if self.user is not None else self.email

    @property
    def tax_rates(self) -> tuple[Decimal, ...]:
        """The rates its lines were taxed at, highest first."""
        return tax_rates_of(item.tax_rate for item in self.items.all())


class OrderItem(models.Model):
    """One line of an order: a snapshot of the variant as it was sold."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # Kept when the product is deleted; the snapshot below still says what
    # was sold.
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order_items",
    )
    # Kept as the product is; null once the variant is deleted.
    variant = models.ForeignKey(
        "catalog.ProductVariant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order_items",
    )
    # The variant's.
    sku = models.CharField("SKU", max_length=64)
    # The product's.
    name = models.CharField(max_length=200)
    # The variant's options, "Size: M, Colour: Red" in the product's option
    # order; empty for a default variant.
    options = models.CharField(max_length=500, blank=True, default="")
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=10, decimal_places=2)
    # The line's part of the order's discount, and the tax in (or on) what
    # is left: what a refund of the line gives back.
    discount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),
    )
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),
    )
    tax = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orders_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gt=Decimal("0")),
                name="orders_item_unit_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")),
                name="orders_item_line_total_is_price_times_quantity",
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=Decimal("0"))
                & Q(discount__lte=F("line_total"))
                & Q(tax__gte=Decimal("0")),
                name="orders_item_discount_and_tax_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderStatusChange(models.Model):
    """One step of an order's history, oldest first, starting with pending."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=20, choices=Order.Status.choices)
    at = models.DateTimeField(auto_now_add=True)
    # Empty for the store's own changes (the expiry job).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "status change"

    def __str__(self) -> str:
        return f"{self.order_id} → {self.status}"


class Payment(models.Model):
    """One payment attempt, approved or not. Only the card's last four digits."""

    class Outcome(models.TextChoices):
        # Recorded before the gateway is called, replaced by its answer.
        PROCESSING = "processing", "Awaiting the gateway"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        ERROR = "error", "Gateway error"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    gateway = models.CharField(max_length=50)
    # The gateway's id of the charge (empty when it gave none).
    reference = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.CharField(max_length=200, blank=True)
    card_last4 = models.CharField("card's last four digits", max_length=4, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")),
                name="orders_payment_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(card_last4="") | Q(card_last4__regex=r"^[0-9]{4}$"),
                name="orders_payment_card_last4_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.amount} {self.currency}"

    @property
    def approved(self) -> bool:
        return self.outcome == self.Outcome.APPROVED
