"""Each customer's address book starts with the address of their last order.

Checkout used to offer that address; it now offers the address book, so a
returning customer keeps the address they were offered. Customers who
already have addresses are left alone.
"""

from django.db import migrations

BATCH = 1000
FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")


def fill_address_books(apps, schema_editor):
    Address = apps.get_model("accounts", "Address")
    Order = apps.get_model("orders", "Order")
    last_orders = (
        Order.objects.exclude(user__addresses__isnull=False)
        .order_by("user_id", "-created_at", "-id")
        .distinct("user_id")
        .values_list("user_id", "shipping_address")
    )
    batch = []
    for user_id, address in last_orders.iterator(chunk_size=BATCH):
        batch.append(
            Address(
                user_id=user_id,
                is_default_shipping=True,
                # Each field cut to its column: an old order's address was
                # checked by the rules of its day.
                **{
                    field: str(address.get(field) or "")[
                        : Address._meta.get_field(field).max_length
                    ]
                    for field in FIELDS
                },
            )
        )
        if len(batch) == BATCH:
            Address.objects.bulk_create(batch)
            batch = []
    Address.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_address_book"),
        ("orders", "0005_order_idempotency_fingerprint"),
    ]

    operations = [
        migrations.RunPython(fill_address_books, migrations.RunPython.noop),
    ]
