"""The catalog console: categories, products and the stock ledger."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from catalog import images, services
from catalog.exceptions import InsufficientStock
from catalog.models import Category, Product, ProductImage, Sale, StockMovement
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
        if self.instance.pk is None:
            self.fields["stock_change"].label = "Initial stock"
            self.fields["stock_change"].help_text = "Units on hand to start with."
            del self.fields["stock_reason"]

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


@admin.register(Product)
class ProductAdmin(StockMovementLinkMixin, admin.ModelAdmin):
    form = ProductAdminForm
    inlines = [ProductImageInline]
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
        ("Price and availability", {"fields": ["price", "is_active"]}),
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

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductImage:
            super().save_formset(request, form, formset, change)
            return
        # Through catalog.images, which makes a new picture's renditions.
        for image in formset.save(commit=False):
            images.save_image(image=image)
        for image in formset.deleted_objects:
            images.remove_image(image=image)

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
        "quantity",
        "stock_after",
        "reason",
        "reference",
        "user",
    ]
    list_select_related = ["product", "user"]
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
