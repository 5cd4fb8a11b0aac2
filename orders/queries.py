"""The order's answer, written out rather than by OrderSerializer's generic path.

Every order answer of the API comes from here (bench/README.md says why);
orders/tests/test_queries.py proves it equal to OrderSerializer's, field by
field.
"""

from collections.abc import Iterable
from typing import TypedDict

from accounts.addresses import FIELDS
from core.api import iso_datetime, money
from orders.models import Order, OrderItem, OrderStatusChange


class OrderItemRepresentation(TypedDict):
    product: int | None
    variant: int | None
    sku: str
    name: str
    options: str
    unit_price: str
    quantity: int
    line_total: str
    discount: str
    tax_rate: str


class StatusChangeRepresentation(TypedDict):
    status: str
    at: str


class ShippingMethodName(TypedDict):
    code: str
    name: str


class OrderRepresentation(TypedDict):
    id: int
    number: str
    status: str
    email: str
    items: list[OrderItemRepresentation]
    subtotal: str
    discount_total: str
    shipping_cost: str
    tax_total: str
    prices_include_tax: bool
    total: str
    currency: str
    voucher: str | None
    shipping_address: dict[str, str]
    shipping_method: ShippingMethodName | None
    note: str
    created_at: str
    updated_at: str
    status_history: list[StatusChangeRepresentation]


def order_representation(
    order: Order,
    *,
    items: Iterable[OrderItem] | None = None,
    history: Iterable[OrderStatusChange] | None = None,
) -> OrderRepresentation:
    """The order as OrderSerializer shows it.

    `items` and `history` are the order's own (as Order.objects.with_details()
    prefetches them) unless given: a checkout gives the rows it has just
    written.
    """
    if items is None:
        items = order.items.all()
    if history is None:
        history = order.history.all()
    address = order.shipping_address
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "email": order.email,
        "items": [
            {
                "product": item.product_id,
                "variant": item.variant_id,
                "sku": item.sku,
                "name": item.name,
                "options": item.options,
                "unit_price": money(item.unit_price),
                "quantity": item.quantity,
                "line_total": money(item.line_total),
                "discount": money(item.discount),
                "tax_rate": money(item.tax_rate),
            }
            for item in items
        ],
        "subtotal": money(order.subtotal),
        "discount_total": money(order.discount_total),
        "shipping_cost": money(order.shipping_cost),
        "tax_total": money(order.tax_total),
        "prices_include_tax": order.prices_include_tax,
        "total": money(order.total),
        "currency": order.currency,
        "voucher": order.voucher_code or None,
        "shipping_address": {field: address.get(field, "") for field in FIELDS},
        "shipping_method": {
            "code": order.shipping_method_code,
            "name": order.shipping_method_name,
        }
        if order.shipping_method_code
        else None,
        "note": order.note,
        "created_at": iso_datetime(order.created_at),
        "updated_at": iso_datetime(order.updated_at),
        "status_history": [
            {"status": change.status, "at": iso_datetime(change.at)}
            for change in history
        ],
    }
