"""Back to migration 0003's search: the generated column of 0004 goes.

Migration 0004's stored generated column made `manage.py check` connect to
the database: in Django 6.1 the GeneratedField system check asks the
PostgreSQL server for its version, so the deploy check failed wherever the
database is out of reach (a build). Measured against migration 0003's three
trigram indexes on a catalog with statistics and merged GIN lists, the
column saved about 0.5 ms of PostgreSQL CPU per search, which does not pay
for that. The search (catalog/filters.py) is again three `icontains` per
word, and the description's trigram index, which 0004 dropped, is back.

As in migration 0003, the index exists on PostgreSQL only.
"""

from django.db import migrations

DESCRIPTION_INDEX = "catalog_product_description_trgm_idx"
DOCUMENT_INDEX = "catalog_product_search_document_trgm_idx"


def create_description_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {DESCRIPTION_INDEX} ON catalog_product "
        "USING gin (UPPER(description::text) gin_trgm_ops)"
    )


def drop_description_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {DESCRIPTION_INDEX}")


def recreate_document_index(apps, schema_editor):
    # Backwards only: migration 0004's index on the column added back.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {DOCUMENT_INDEX} ON catalog_product "
        "USING gin (search_document gin_trgm_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_product_category_price_index"),
    ]

    operations = [
        # Dropping the column drops its index; backwards, the column comes
        # back first and then its index.
        migrations.RunPython(
            migrations.RunPython.noop, recreate_document_index, elidable=False
        ),
        migrations.RemoveField(
            model_name="product",
            name="search_document",
        ),
        migrations.RunPython(
            create_description_index, drop_description_index, elidable=False
        ),
    ]
