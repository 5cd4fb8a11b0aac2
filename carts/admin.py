"""Carts in the admin, read-only: staff see what shoppers hold, not change it."""

from django.contrib import admin
from django.db.models import Count, Sum

from carts.models import Cart, CartItem
from core.admin import ReadOnlyAdminMixin


class CartItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartItem
    fields = (
        "product",
        "variant",
        "quantity",
        "unit_price",
        "line_total",
        "updated_at",
    )
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        # The lines are part of the cart: whoever may view it sees them.
        return request.user.has_perm("carts.view_cart")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")

    @admin.display(description="unit price (now)")
    def unit_price(self, item):
        return item.unit_price


class AnonymousFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [("customer", "Customers"), ("anonymous", "Anonymous (session)")]

    def queryset(self, request, queryset):
        if self.value() == "customer":
            return queryset.filter(user__isnull=False)
        if self.value() == "anonymous":
            return queryset.anonymous()
        return queryset


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "user", "lines", "units", "updated_at"]
    list_select_related = ["user"]
    list_filter = [AnonymousFilter, "updated_at"]
    search_fields = ["user__email"]
    ordering = ["-updated_at"]
    fields = ("user", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [CartItemInline]

    def get_queryset(self, request):
        # The figures are part of the changelist's one query, not one per row.
        return (
            super()
            .get_queryset(request)
            .annotate(line_count=Count("items"), unit_count=Sum("items__quantity"))
        )

    @admin.display(description="lines", ordering="line_count")
    def lines(self, cart):
        return cart.line_count

    @admin.display(description="units", ordering="unit_count")
    def units(self, cart):
        return cart.unit_count or 0
