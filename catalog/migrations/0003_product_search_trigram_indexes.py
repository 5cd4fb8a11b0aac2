"""Trigram indexes for the product search, on PostgreSQL only.

The search (catalog/filters.py) filters each word with `icontains` on the
name, description and SKU, which Django's PostgreSQL backend writes as
`UPPER("catalog_product"."name"::text) LIKE UPPER('%word%')`. A pg_trgm GIN
index on exactly that expression, `UPPER(name::text)`, lets the planner
answer the LIKE with a Bitmap Index Scan instead of reading every row; the
three are ORed into one BitmapOr, so the COUNT(*) of a searched page uses
them too. What a search matches is unchanged: the index only finds the
candidate rows, and PostgreSQL rechecks the LIKE on each.

The indexes are not declared in Product.Meta.indexes: GIN and operator
classes do not exist on SQLite (the embedded default), where this migration
is a no-op. Being created here only, they stay out of the model state, so
`makemigrations --check` stays clean. catalog/tests/test_search_indexes.py
checks that they exist and that the planner uses them for the search's SQL.
"""

from django.db import migrations

COLUMNS = ["name", "description", "sku"]


def index_name(column):
    return f"catalog_product_{column}_trgm_idx"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # A trusted extension on PostgreSQL 13+, so a database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(column)} ON catalog_product "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other schemas may use it, and it costs nothing idle.
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(column)}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_price_at_least_one_cent"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
