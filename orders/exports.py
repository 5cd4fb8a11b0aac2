"""Orders as CSV for accounting, one row per order line.

The order console's *Export as CSV* action and `manage.py export_orders`
write this same file. Text a customer or staff typed (emails, addresses,
product names) is neutralised for spreadsheets: a cell that would start a
formula gets a leading apostrophe.
"""

import csv

CSV_COLUMNS = [
    "order",
    "created_at",
    "status",
    "customer",
    "ship_to",
    "city",
    "postal_code",
    "country",
    "currency",
    "subtotal",
    "shipping_cost",
    "total",
    "product_id",
    "sku",
    "name",
    "options",
    "unit_price",
    "quantity",
    "line_total",
]
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    """Text a spreadsheet shows as text, never runs as a formula."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_orders_csv(orders, file, *, on_order=None) -> tuple[int, int]:
    """Write the orders' lines as CSV, oldest order first; return (orders, lines).

    `orders` is an Order queryset; it is read in chunks, with its customers
    and lines, in a fixed number of queries per chunk. `on_order(count)` is
    called after each order.
    """
    writer = csv.writer(file)
    writer.writerow(CSV_COLUMNS)
    order_count = line_count = 0
    orders = (
        orders.select_related("user")
        .prefetch_related("items")
        .order_by("created_at", "pk")
    )
    for order in orders.iterator(chunk_size=500):
        address = order.shipping_address
        for item in order.items.all():
            writer.writerow(
                [
                    order.number,
                    order.created_at.isoformat(),
                    order.status,
                    csv_text(order.user.email),
                    csv_text(address.get("full_name", "")),
                    csv_text(address.get("city", "")),
                    csv_text(address.get("postal_code", "")),
                    csv_text(address.get("country", "")),
                    order.currency,
                    order.subtotal,
                    order.shipping_cost,
                    order.total,
                    item.product_id or "",
                    csv_text(item.sku),
                    csv_text(item.name),
                    csv_text(item.options),
                    item.unit_price,
                    item.quantity,
                    item.line_total,
                ]
            )
            line_count += 1
        order_count += 1
        if on_order is not None:
            on_order(order_count)
    return order_count, line_count
