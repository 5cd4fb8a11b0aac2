"""The store's pricing rules: shipping zones and methods, tax rates, vouchers.

Below carts and orders: the cart prices itself by these rules and checkout
charges by the same ones (pricing.pipeline).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.addresses import COUNTRY_CODES, NOT_A_COUNTRY
from catalog.models import STANDARD_TAX_CLASS, Category, Product
from core.text import PrintableTextValidator
from pricing.pipeline import ShippingRate


class ShippingZone(models.Model):
    """Countries that share shipping methods (say "UK", "EU", "Rest of world").

    A country may be in several zones: a shopper there is offered the
    methods of each of them.
    """

    name = models.CharField(max_length=100, validators=[PrintableTextValidator()])
    # ISO 3166-1 alpha-2 codes, upper case (accounts.addresses.COUNTRY_CODES).
    countries = ArrayField(models.CharField(max_length=2))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The methods for a country: WHERE countries @> ARRAY['GB'].
            GinIndex(fields=["countries"], name="pricing_zone_countries_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        codes = [str(code).strip().upper() for code in self.countries or []]
        unknown = sorted({code for code in codes if code not in COUNTRY_CODES})
        if unknown:
            raise ValidationError(
                {"countries": f"Not ISO 3166-1 country codes: {', '.join(unknown)}."}
            )
        if not codes:
            raise ValidationError({"countries": "Name at least one country."})
        # Each once, in order: what staff see is what the zone holds.
        self.countries = sorted(set(codes))


class ShippingMethod(models.Model):
    """A way to ship to a zone's countries, at a price, free above a subtotal."""

    zone = models.ForeignKey(
        ShippingZone, on_delete=models.CASCADE, related_name="methods"
    )
    # What the API and the cart name it by; unique across zones.
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, validators=[PrintableTextValidator()])
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    free_above = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Free when the order's subtotal is at or above this; empty: never.",
    )
    estimated_days = models.PositiveSmallIntegerField(
        help_text="Working days from dispatch to the door, as shoppers are told."
    )
    max_weight = models.PositiveIntegerField(
        "weight limit (g)",
        null=True,
        blank=True,
        help_text="Offered only for orders weighing at most this many grams "
        "(the variants' weights); empty: any weight.",
    )

    class Meta:
        ordering = ["price", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=Decimal("0"))
                & (Q(free_above__isnull=True) | Q(free_above__gte=Decimal("0"))),
                name="pricing_shipping_method_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"

    def carries(self, weight: int) -> bool:
        """Whether it takes an order of `weight` grams."""
        return self.max_weight is None or weight <= self.max_weight

    @property
    def rate(self) -> ShippingRate:
        """Its price, free at or above `free_above`, as the pipeline reads it."""
        return ShippingRate(self.price, self.free_above)


class TaxRate(models.Model):
    """The tax on goods shipped to a country, for one tax class.

    A product's `tax_class` names its class ("standard" unless staff set
    another, such as "books" for a reduced rate); a product whose class has
    no rate in the country is taxed at the country's standard rate, and a
    country with no rate at all charges no tax.
    """

    country = models.CharField(max_length=2)
    tax_class = models.SlugField(max_length=50, default=STANDARD_TAX_CLASS)
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text='Percent: "20.00" is 20 %.',
    )

    class Meta:
        ordering = ["country", "tax_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "tax_class"], name="pricing_tax_rate_one_per_class"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=Decimal("0")) & Q(rate__lt=Decimal("100")),
                name="pricing_tax_rate_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.tax_class} {self.rate} %"

    def clean(self) -> None:
        super().clean()
        self.country = str(self.country or "").strip().upper()
        if self.country not in COUNTRY_CODES:
            raise ValidationError({"country": NOT_A_COUNTRY})
        if self.rate is not None and self.rate >= 100:
            raise ValidationError({"rate": "A rate must be below 100 %."})


class Discount(models.Model):
    """What a voucher and a promotion share: a kind and value, a window, and
    the products and categories they are limited to (none: every product)."""

    PERCENTAGE = "percentage"
    FIXED = "fixed"

    value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="In force up to this moment; empty: no end."
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="%(class)ss",
        help_text="Only for products of these categories and their "
        "subcategories (with the products below); none: every product.",
    )
    products = models.ManyToManyField(Product, blank=True, related_name="%(class)ss")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    kind: str

    class Meta:
        abstract = True
        ordering = ["-starts_at", "-id"]

    def discount_errors(self) -> dict[str, str]:
        """What is wrong with the window and the value, by field."""
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = (
                f"The {self._meta.verbose_name} must end after it starts."
            )
        if self.value is not None:
            if self.kind == self.PERCENTAGE and not 0 < self.value <= 100:
                errors["value"] = "A percentage must be above 0 and at most 100."
            elif self.kind == self.FIXED and self.value <= 0:
                errors["value"] = "The amount off must be above 0."
        return errors


class VoucherQuerySet(models.QuerySet["Voucher"]):
    def by_code(self, code: str) -> "VoucherQuerySet":
        return self.filter(code=normalize_code(code))


def normalize_code(code: str) -> str:
    """Codes are matched whatever their case or surrounding spaces."""
    return str(code or "").strip().upper()


class Voucher(Discount):
    """A discount code a shopper types in: an amount off or free shipping."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    # Kept upper case (normalize_code), so that "summer10" finds SUMMER10.
    code = models.CharField(
        max_length=50, unique=True, validators=[PrintableTextValidator()]
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    min_subtotal = models.DecimalField(
        "minimum subtotal",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The cart's subtotal must be at least this; empty: any.",
    )
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders that may use it in all; empty: any."
    )
    once_per_customer = models.BooleanField(
        default=False, help_text="Each account or e-mail address may use it once."
    )
    # Orders placed with it and not cancelled: taken in the checkout's
    # transaction by a conditional update, so that it never passes the limit.
    used_count = models.PositiveIntegerField(default=0, editable=False)

    objects = VoucherQuerySet.as_manager()

    class Meta(Discount.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True)
                | Q(used_count__lte=F("usage_limit")),
                name="pricing_voucher_within_usage_limit",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=Decimal("0"))
                & (~Q(kind="percentage") | Q(value__lte=Decimal("100"))),
                name="pricing_voucher_value_in_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="pricing_voucher_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        super().clean()
        self.code = normalize_code(self.code)
        errors = self.discount_errors()
        if not self.code:
            errors["code"] = "Give the voucher a code."
        if errors:
            raise ValidationError(errors)

    @property
    def is_used_up(self) -> bool:
        return self.usage_limit is not None and self.used_count >= self.usage_limit


class VoucherUse(models.Model):
    """One order placed with a voucher: who used it, for "once per customer"."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="uses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The order's e-mail address, lower case.
    email = models.EmailField()
    order_number = models.CharField(max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["voucher", "email"], name="pricing_use_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher} on {self.order_number}"


class PromotionQuerySet(models.QuerySet["Promotion"]):
    def in_force(self, moment) -> "PromotionQuerySet":
        """Active promotions whose window holds `moment`."""
        return self.filter(is_active=True, starts_at__lte=moment).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=moment)
        )


class Promotion(Discount):
    """A discount that applies without a code ("10 % off mugs this week",
    "buy 3 pay 2"). Where several cover a line, the best for the shopper
    applies, plus those marked stackable (pricing.pipeline.promotion_discount).
    """

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off each unit"
        BUY_X_PAY_Y = "buy_x_pay_y", "Buy X, pay Y"

    name = models.CharField(
        max_length=120,
        validators=[PrintableTextValidator()],
        help_text="Shown to shoppers beside the discount.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    buy_quantity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Buy X, pay Y: the X (say 3)."
    )
    pay_quantity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Buy X, pay Y: the Y (say 2)."
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Switch off to end it early."
    )
    stackable = models.BooleanField(
        default=False,
        help_text="Adds to the best other promotion on a line, instead of "
        "competing with it.",
    )
    objects = PromotionQuerySet.as_manager()

    class Meta(Discount.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="pricing_promotion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="buy_x_pay_y")
                | Q(pay_quantity__gte=1, buy_quantity__gt=F("pay_quantity")),
                name="pricing_promotion_buy_more_than_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = self.discount_errors()
        if self.kind == self.Kind.BUY_X_PAY_Y:
            buy, pay = self.buy_quantity, self.pay_quantity
            if not buy or not pay or buy <= pay:
                errors["pay_quantity"] = (
                    "Give how many to buy and how many of them to pay, fewer "
                    "(buy 3, pay 2)."
                )
        if errors:
            raise ValidationError(errors)
