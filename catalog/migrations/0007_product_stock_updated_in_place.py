"""Let a stock change update the product row in place (a HOT update).

A sale sets `stock` and `updated_at`. While `stock` had an index, PostgreSQL
wrote the new row version into every index of the table (fourteen, three of
them trigram GINs) on every sale; with no index on either column it can
update the row in place, as a heap-only tuple, if the row's page has room.
A fillfactor of 90 keeps that room on the pages written from now on. The
in_stock filter and the admin's low-stock list read stock without an index:
the first walks an ordering index and filters, the second is an occasional
scan.

The fillfactor is a PostgreSQL storage parameter; on SQLite (the embedded
default) that part is a no-op. catalog/tests/test_stock_in_place.py checks
that a sale is a HOT update.
"""

from django.db import migrations


def leave_room_on_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_product SET (fillfactor = 90)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_product RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_remove_product_search_document"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="product",
            name="catalog_product_stock_idx",
        ),
        migrations.RunPython(leave_room_on_pages, fill_pages, elidable=False),
    ]
