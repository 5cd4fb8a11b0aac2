"""The catalog console: categories, products, their variants and the stock ledger."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from catalog import images, services
from catalog.exceptions import InsufficientStock, LastVariant
from catalog.models import (
    STANDARD_TAX_CLASS,
    Category,
    Product,
    ProductImage,
    ProductOption,
    ProductVariant,
    Sale,
    StockMovement,
)
from core.admin import ReadOnlyAdminMixin

Reason = StockMovement.Reason
ADMIN_STOCK_REASONS = [
    (reason.value, reason.label)
    for reason in (Reason.ADJUSTMENT, Reason.DELIVERY, Reason.DAMAGE)
]


def low_stock_threshold():
    return settings.CATALOG_LOW_STOCK


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position", "product_count"]
    list_editable = ["position"]
    list_select_related = ["parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "parent",
        "position",
        "description",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        # The count is part of the changelist's one query, not one per row.
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description="products", ordering="product_total")
    def product_count(self, category):
        url = reverse("admin:catalog_product_changelist")
        query = urlencode({"category__id__exact": category.pk})
        return format_html('<a href="{}?{}">{}</a>', url, query, category.product_total)


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [
            ("in", "In stock"),
            ("low", f"Low (1 to {low_stock_threshold()})"),
            ("out", "Out of stock"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "in":
            return queryset.in_stock()
        if self.value() == "low":
            return queryset.low_in_stock(low_stock_threshold())
        if self.value() == "out":
            return queryset.out_of_stock()
        return queryset


class ProductAdminForm(forms.ModelForm):
    """The product form; stock changes only through the stock service."""

    stock_change = forms.IntegerField(
        label="Adjust stock by",
        required=False,
        help_text="Units to add (positive) or remove (negative). Recorded as a "
        "stock movement with the reason below.",
    )
    stock_reason = forms.ChoiceField(
        label="Reason", choices=ADMIN_STOCK_REASONS, required=False
    )
    stock_reference = forms.CharField(
        label="Note",
        max_length=100,
        required=False,
        help_text="A delivery note, a count sheet… (optional).",
    )

    class Meta:
        model = Product
        # What a product's edit may change; the fieldsets lay them out (its
        # pictures in their inline).
        fields = sorted((services.PRODUCT_FIELDS | {"price"}) - {"image"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty, the standard rates apply (as a product made elsewhere).
        self.fields["tax_class"].required = False
        if self.instance.pk is None:
            self.fields["stock_change"].label = "Initial stock"
            self.fields["stock_change"].help_text = "Units on hand to start with."
            del self.fields["stock_reason"]

    def clean_tax_class(self):
        return self.cleaned_data["tax_class"] or STANDARD_TAX_CLASS

    def variant_count(self):
        if self.instance.pk is None:
            return 0
        return self.instance.variants.count()

    def clean_price(self):
        price = self.cleaned_data["price"]
        if "price" in self.changed_data and self.variant_count() > 1:
            raise forms.ValidationError(services.ONE_VARIANT_ONLY.format(field="price"))
        return price

    def clean_stock_change(self):
        change = self.cleaned_data.get("stock_change")
        if change is None:
            return None
        if change < 0 and self.instance.pk is None:
            raise forms.ValidationError("Initial stock cannot be negative.")
        if change and self.variant_count() > 1:
            raise forms.ValidationError(services.ONE_VARIANT_ONLY.format(field="stock"))
        if self.instance.pk is not None and self.instance.stock + change < 0:
            raise forms.ValidationError(
                f"Only {self.instance.stock} in stock: cannot remove {-change}."
            )
        return change or None


class StockMovementLinkMixin:
    @admin.display(description="stock movements")
    def movements_link(self, product):
        if product.pk is None:
            return "-"
        url = reverse("admin:catalog_stockmovement_changelist")
        query = urlencode({"product__id__exact": product.pk})
        return format_html('<a href="{}?{}">View the stock ledger</a>', url, query)


class ProductImageInline(admin.TabularInline):
    """A product's pictures: upload, alt text, order, and a preview."""

    model = ProductImage
    fields = ["preview", "image", "alt_text", "position"]
    readonly_fields = ["preview"]
    extra = 1

    @admin.display(description="preview")
    def preview(self, image):
        if image.pk is None:
            return "-"
        # The thumbnail, or the original before its renditions are made. A
        # width attribute, not a style: the site's CSP refuses inline styles.
        return format_html(
            '<img src="{}" alt="{}" width="120">',
            images.picture(image, "thumbnail").src,
            image.alt_text,
        )


class VariantsRefused(Exception):
    """The services refused an inline change: the product's save is undone."""


class ProductOptionInline(admin.TabularInline):
    """The product's option types; saved through services.set_option_types."""

    model = ProductOption
    fields = ["name", "values", "position"]
    extra = 0


class VariantInlineForm(forms.ModelForm):
    """A variant on the product's page; its stock moves through the stock service."""

    stock_change = forms.IntegerField(
        label="Adjust stock by",
        required=False,
        help_text="Units to add or remove (initial stock for a new variant).",
    )

    class Meta:
        model = ProductVariant
        fields = [
            "sku",
            "options",
            "price",
            "compare_at_price",
            "weight",
            "is_active",
            "position",
        ]


class ProductVariantInline(admin.TabularInline):
    """The product's variants; every change goes through catalog.services."""

    model = ProductVariant
    form = VariantInlineForm
    fields = [
        "sku",
        "options",
        "price",
        "compare_at_price",
        "weight",
        "stock",
        "stock_change",
        "is_active",
        "position",
    ]
    readonly_fields = ["stock"]
    extra = 0


@admin.register(Product)
class ProductAdmin(StockMovementLinkMixin, admin.ModelAdmin):
    form = ProductAdminForm
    list_display = [
        "sku",
        "name",
        "category",
        "price",
        "stock",
        "is_active",
        "updated_at",
    ]
    list_display_links = ["sku", "name"]
    list_editable = ["price", "is_active"]
    list_select_related = ["category"]
    list_filter = ["category", "is_active", StockLevelFilter]
    list_per_page = 50
    search_fields = ["name", "sku"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = [
        "stock",
        "movements_link",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["sku", "name", "slug", "category", "description"]}),
        ("Price and availability", {"fields": ["price", "tax_class", "is_active"]}),
        (
            "Stock",
            {
                "fields": [
                    "stock",
                    "stock_change",
                    "stock_reason",
                    "stock_reference",
                    "movements_link",
                ]
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["activate", "deactivate"]
    inlines = [ProductImageInline, ProductOptionInline, ProductVariantInline]

    def get_inlines(self, request, obj):
        # A new product starts with its default variant (the fields above).
        return self.inlines if obj is not None else [ProductImageInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            # Through catalog.images, which makes a new picture's renditions.
            for image in formset.save(commit=False):
                images.save_image(image=image)
            for image in formset.deleted_objects:
                images.remove_image(image=image)
            return
        # Through the services, so that every variant fits the option types,
        # the product's price and stock follow, and stock changes are
        # movements. A refusal undoes the whole save (changeform_view).
        # What the admin's change message reads of a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )
        try:
            if formset.model is ProductOption:
                self.save_option_types(form.instance, formset)
            else:
                self.save_variants(request, form.instance, formset)
        except (ValidationError, LastVariant) as error:
            raise VariantsRefused(self.reason(error)) from error

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The admin's own transaction rolls the whole save back first.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except VariantsRefused as refusal:
            messages.error(request, f"Nothing was saved: {refusal}")
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def reason(error):
        if isinstance(error, ValidationError):
            return " ".join(error.messages)
        return error.detail

    @staticmethod
    def save_option_types(product, formset):
        kept = [
            form.cleaned_data
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        kept.sort(key=lambda data: data.get("position") or 0)
        if not formset.has_changed():
            return
        services.set_option_types(
            product=product,
            option_types=[
                {"name": data["name"], "values": list(data["values"])} for data in kept
            ],
        )

    @staticmethod
    def save_variants(request, product, formset):
        fields = VariantInlineForm.Meta.fields
        for form in formset.forms:
            data = form.cleaned_data
            if not data:
                continue
            variant = form.instance
            if data.get("DELETE") and variant.pk is not None:
                services.delete_variant(variant=variant)
                continue
            if variant.pk is None:
                services.create_variant(
                    product=product,
                    user=request.user,
                    stock=data.get("stock_change") or 0,
                    **{name: data[name] for name in fields if name in data},
                )
                continue
            changes = {name: data[name] for name in form.changed_data if name in fields}
            if changes:
                services.update_variant(variant=variant, user=request.user, **changes)
            if data.get("stock_change"):
                services.adjust_stock(
                    variant=variant,
                    quantity=data["stock_change"],
                    user=request.user,
                )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            # A new product: its first stock is the initial movement.
            return [
                (name, {**options, "fields": self._new_fields(options["fields"])})
                for name, options in fieldsets
            ]
        return fieldsets

    @staticmethod
    def _new_fields(fields):
        hidden = {"stock", "stock_reason", "movements_link"}
        return [field for field in fields if field not in hidden]

    def save_model(self, request, obj, form, change):
        # Through the services: the price and stock are the variants'.
        stock_change = form.cleaned_data.get("stock_change")
        reference = form.cleaned_data.get("stock_reference", "")
        if not change:
            obj.save()
            services.create_variant(
                product=obj,
                sku=obj.sku,
                price=obj.price,
                stock=stock_change or 0,
                user=request.user,
                reference=reference,
            )
            obj.refresh_from_db()
            return
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.PRODUCT_FIELDS | {"price"}
        }
        services.update_product(product=obj, user=request.user, **changes)
        if not stock_change:
            return
        reason = form.cleaned_data.get("stock_reason") or Reason.ADJUSTMENT
        try:
            services.adjust_stock(
                variant=obj.variants.get(),
                quantity=stock_change,
                reason=reason,
                reference=reference,
                user=request.user,
            )
        except InsufficientStock as error:
            # A sale landed between the form's check and this save.
            messages.error(request, f"Stock not changed: {error.detail}")

    @admin.action(description="Activate selected products")
    def activate(self, request, queryset):
        count = services.set_products_active(products=queryset, is_active=True)
        self.message_user(request, f"{count} products activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products")
    def deactivate(self, request, queryset):
        count = services.set_products_active(products=queryset, is_active=False)
        self.message_user(request, f"{count} products deactivated.", messages.SUCCESS)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stock ledger: read-only, appended to by the stock service only."""

    list_display = [
        "created_at",
        "sku",
        "product",
        "variant",
        "quantity",
        "stock_after",
        "reason",
        "reference",
        "user",
    ]
    list_select_related = ["product", "variant", "user"]
    list_filter = ["reason", "created_at"]
    search_fields = ["sku", "reference"]
    date_hierarchy = "created_at"
    list_per_page = 100


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    """Sales are written through catalog.services, which applies their prices."""

    list_display = [
        "name",
        "kind",
        "value",
        "starts_at",
        "ends_at",
        "is_active",
        "state",
    ]
    list_filter = ["is_active", "kind"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["products", "categories"]
    raw_id_fields = ["variants"]
    fields = [
        "name",
        ("kind", "value"),
        ("starts_at", "ends_at"),
        "is_active",
        "categories",
        "products",
        "variants",
    ]

    @admin.display(description="now")
    def state(self, sale: Sale) -> str:
        now = timezone.now()
        if not sale.is_active:
            return "switched off"
        if now < sale.starts_at:
            return "scheduled"
        return "running" if now < sale.ends_at else "ended"

    def save_model(self, request, obj, form, change):
        # Saved with what it covers in save_related, through the service.
        pass

    def save_related(self, request, form, formsets, change):
        services.save_sale(
            sale=form.instance,
            products=form.cleaned_data["products"],
            variants=form.cleaned_data["variants"],
            categories=form.cleaned_data["categories"],
        )

    def delete_model(self, request, obj):
        services.delete_sale(sale=obj)

    def delete_queryset(self, request, queryset):
        for sale in queryset:
            services.delete_sale(sale=sale)


class VariantActionForm(ActionForm):
    """The value the variants' bulk actions apply."""

    amount = forms.DecimalField(
        required=False,
        max_digits=10,
        decimal_places=2,
        help_text="A price, a percentage (-10 for 10% off) or a stock figure.",
    )


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin):
    """Variants across products, with bulk price and stock edits."""

    list_display = [
        "sku",
        "product",
        "options",
        "price",
        "compare_at_price",
        "stock",
        "is_active",
    ]
    list_select_related = ["product"]
    list_filter = ["is_active", "product__category"]
    search_fields = ["sku", "product__name"]
    list_per_page = 100
    action_form = VariantActionForm
    actions = ["set_price", "change_price_by_percent", "set_stock"]

    def has_add_permission(self, request):
        # Variants are added on their product's page.
        return False

    def has_change_permission(self, request, obj=None):
        # Changed on their product's page or by the bulk actions.
        return obj is None and super().has_change_permission(request)

    def amount(self, request):
        try:
            return Decimal(request.POST.get("amount", ""))
        except ArithmeticError:
            self.message_user(request, "Give the amount first.", messages.ERROR)
            return None

    @admin.action(description="Set the price of selected variants to the amount")
    def set_price(self, request, queryset):
        self.change_prices(request, queryset, price=self.amount(request))

    @admin.action(
        description="Change the price of selected variants by the amount in percent"
    )
    def change_price_by_percent(self, request, queryset):
        self.change_prices(request, queryset, percent=self.amount(request))

    def change_prices(self, request, queryset, **change):
        if None in change.values():
            return
        try:
            count = services.set_variant_prices(variants=queryset, **change)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, f"{count} variants repriced.", messages.SUCCESS)

    @admin.action(description="Set the stock of selected variants to the amount")
    def set_stock(self, request, queryset):
        amount = self.amount(request)
        if amount is None:
            return
        if amount < 0 or amount != amount.to_integral_value():
            self.message_user(
                request, "Stock is a whole number, 0 or more.", messages.ERROR
            )
            return
        with transaction.atomic():
            for variant in queryset.order_by("pk"):
                services.set_stock(
                    variant=variant, stock=int(amount), user=request.user
                )
        self.message_user(
            request,
            f"Stock set to {int(amount)} on {queryset.count()} variants.",
            messages.SUCCESS,
        )
