"""The order console: orders, their lines, history and payments, read-only.

Staff change an order only through the actions, which call the same
lifecycle services as the API (so illegal moves are refused here too and a
cancellation puts the stock back), and export orders as CSV.
"""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html_join

from core.admin import ReadOnlyAdminMixin
from orders import services
from orders.exceptions import InvalidTransition
from orders.exports import write_orders_csv
from orders.models import (
    Order,
    OrderItem,
    OrderStatusChange,
    Payment,
)

Status = Order.Status


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = readonly_fields = (
        "product",
        "sku",
        "name",
        "unit_price",
        "quantity",
        "line_total",
    )


class StatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = readonly_fields = ("status", "at", "by", "note")
    verbose_name_plural = "status history"


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = readonly_fields = (
        "created_at",
        "outcome",
        "amount",
        "currency",
        "gateway",
        "reference",
        "card_last4",
        "by",
        "message",
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total", "currency", "created_at"]
    list_select_related = ["user"]
    list_filter = ["status", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["number", "user__email"]
    list_per_page = 50
    fields = readonly_fields = (
        "number",
        "user",
        "status",
        "subtotal",
        "shipping_method_name",
        "shipping_cost",
        "total",
        "currency",
        "address",
        "note",
        "created_at",
        "updated_at",
    )
    inlines = [OrderItemInline, StatusChangeInline, PaymentInline]
    actions = ["mark_paid", "mark_shipped", "mark_delivered", "cancel", "export_csv"]

    def has_add_permission(self, request):
        return False  # orders come from checkout

    def has_change_permission(self, request, obj=None):
        # An order's page is read-only; the actions change orders.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the stock and the accounts stay right

    @admin.display(description="customer", ordering="user__email")
    def customer(self, order):
        return order.user.email

    @admin.display(description="shipping address")
    def address(self, order):
        address = order.shipping_address
        lines = [
            address.get("full_name"),
            address.get("line1"),
            address.get("line2"),
            f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
            address.get("country"),
            address.get("phone"),
        ]
        return format_html_join("", "{}<br>", ((line,) for line in lines if line))

    @admin.action(description="Mark selected orders paid", permissions=["change"])
    def mark_paid(self, request, queryset):
        self._move(request, queryset, Status.PAID, "Marked paid")

    @admin.action(description="Mark selected orders shipped", permissions=["change"])
    def mark_shipped(self, request, queryset):
        self._move(request, queryset, Status.SHIPPED, "Marked shipped")

    @admin.action(description="Mark selected orders delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._move(request, queryset, Status.DELIVERED, "Marked delivered")

    @admin.action(
        description="Cancel selected orders (stock goes back)", permissions=["change"]
    )
    def cancel(self, request, queryset):
        self._move(request, queryset, Status.CANCELLED, "Cancelled")

    def _move(self, request, queryset, status, done_message):
        done = []
        for order in queryset.order_by("created_at", "pk"):
            try:
                services.change_order_status(
                    order=order, status=status, user=request.user
                )
            except InvalidTransition as error:
                self.message_user(
                    request, f"Not changed: {error.detail}", messages.ERROR
                )
            else:
                done.append(order.number)
        if done:
            self.message_user(
                request,
                f"{done_message}: {', '.join(done)}.",
                messages.SUCCESS,
            )

    @admin.action(description="Export selected orders as CSV (one row per line)")
    def export_csv(self, request, queryset):
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        write_orders_csv(queryset, response)
        return response
