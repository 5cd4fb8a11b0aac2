"""The store's pricing rules in the back office: shipping zones and methods,
tax rates and vouchers. The models' checks apply, as in the API's services.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db.models import BLANK_CHOICE_DASH, Count
from django_countries import countries

from core.admin import ReadOnlyAdminMixin
from pricing import services
from pricing.models import (
    Promotion,
    ShippingMethod,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherUse,
)


class ShippingZoneForm(forms.ModelForm):
    """Countries chosen by name, from the list the addresses accept."""

    countries = forms.MultipleChoiceField(
        choices=list(countries),
        widget=FilteredSelectMultiple("countries", is_stacked=False),
        help_text="Shoppers in these countries are offered the zone's methods.",
    )

    class Meta:
        model = ShippingZone
        fields = ["name", "countries"]


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    fields = ["code", "name", "price", "free_above", "estimated_days", "max_weight"]
    extra = 1


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    """Shipping zones and their methods: what checkout offers each country.

    The model's checks apply (the countries, one code a method), as in the
    API's pricing.services.save_shipping_zone.
    """

    form = ShippingZoneForm
    inlines = [ShippingMethodInline]
    list_display = ["name", "country_list", "method_list"]
    search_fields = ["name", "methods__code", "methods__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("methods")

    @admin.display(description="countries")
    def country_list(self, zone):
        return ", ".join(zone.countries)

    @admin.display(description="methods")
    def method_list(self, zone):
        return ", ".join(method.name for method in zone.methods.all())


class TaxRateForm(forms.ModelForm):
    """The country chosen by name, from the list the addresses accept."""

    country = forms.ChoiceField(choices=[*BLANK_CHOICE_DASH, *countries])

    class Meta:
        model = TaxRate
        fields = ["country", "tax_class", "rate"]


class TaxRateCountryFilter(admin.SimpleListFilter):
    """The countries that have rates, by name."""

    title = "country"
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = TaxRate.objects.order_by().values_list("country", flat=True)
        return sorted(
            ((code, countries.name(code)) for code in set(codes)),
            key=lambda choice: choice[1],
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(country=self.value())
        return queryset


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    """Tax rates by country and tax class, saved through pricing.services."""

    form = TaxRateForm
    list_display = ["country_name", "tax_class", "rate"]
    list_filter = [TaxRateCountryFilter, "tax_class"]
    search_fields = ["country", "tax_class"]

    @admin.display(description="country", ordering="country")
    def country_name(self, rate):
        return f"{countries.name(rate.country)} ({rate.country})"

    def save_model(self, request, obj, form, change):
        services.save_tax_rate(rate=obj)


class VoucherUseInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The orders placed with the voucher (a cancelled order gives its use back)."""

    model = VoucherUse
    fields = ["order_number", "email", "user", "created_at"]
    readonly_fields = ["order_number", "email", "user", "created_at"]
    extra = 0
    verbose_name = "use"
    verbose_name_plural = "uses"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = [
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
        ]

    def clean_usage_limit(self):
        limit = self.cleaned_data["usage_limit"]
        used = self.instance.used_count
        if limit is not None and limit < used:
            raise forms.ValidationError(
                f"The limit cannot be below the uses taken already ({used})."
            )
        return limit


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    """Vouchers, saved with what they cover through pricing.services.save_voucher.

    Their uses are taken and given back by checkout and cancellation only.
    """

    form = VoucherForm
    inlines = [VoucherUseInline]
    list_display = [
        "code",
        "kind",
        "value",
        "min_subtotal",
        "starts_at",
        "ends_at",
        "usage_limit",
        "used_count",
        "once_per_customer",
    ]
    list_filter = ["kind"]
    search_fields = ["code"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["categories", "products"]
    readonly_fields = ["used_count"]
    fields = [
        "code",
        ("kind", "value"),
        "min_subtotal",
        ("starts_at", "ends_at"),
        ("usage_limit", "used_count"),
        "once_per_customer",
        "categories",
        "products",
    ]

    def get_inlines(self, request, obj):
        # A new voucher has no uses to show.
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        # Saved with what it covers in save_related, through the service.
        pass

    def save_related(self, request, form, formsets, change):
        services.save_voucher(
            voucher=form.instance,
            categories=form.cleaned_data["categories"],
            products=form.cleaned_data["products"],
        )
        # The uses are read-only (their forms never change), but the admin's
        # change message reads what each formset saved.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    """Automatic promotions, and how many orders each took something off."""

    list_display = [
        "name",
        "kind",
        "value",
        "buy_quantity",
        "pay_quantity",
        "starts_at",
        "ends_at",
        "is_active",
        "stackable",
        "times_used",
    ]
    list_filter = ["kind", "is_active", "stackable"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["categories", "products"]
    fields = [
        "name",
        ("kind", "value"),
        ("buy_quantity", "pay_quantity"),
        ("starts_at", "ends_at"),
        ("is_active", "stackable"),
        "categories",
        "products",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(order_count=Count("orders"))

    @admin.display(description="orders", ordering="order_count")
    def times_used(self, promotion):
        return promotion.order_count
