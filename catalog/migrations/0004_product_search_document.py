"""One upper-cased search column under one trigram index (PostgreSQL only).

The search (ProductQuerySet.matching) looked for each word with `icontains`
on the name, the description and the SKU: three ORed LIKEs, each computing
UPPER() on its column for every row it checked. A word that every product
holds ("model" in the benchmark's catalog) turned the three trigram indexes
of migration 0003 into a BitmapOr of the whole table and the planner into a
sequential scan, ~22 ms for a search of 10,000 products that one product
matches. `search_document` holds the three fields upper-cased, once, and one
GIN index on it answers every word of a search in one index scan (0.2 ms for
the same search).

The description's own trigram index served only the search and goes; the
name's and the SKU's stay for the admin's search, which still filters
`icontains` on those two fields.

As in migration 0003, the index is not declared in Product.Meta.indexes: GIN
and operator classes do not exist on SQLite, where the index is skipped and
the column alone serves. catalog/tests/test_search_indexes.py checks the
index and that the planner uses it for the search's SQL.
"""

import django.db.models.functions.text
from django.db import migrations, models

SEARCH_INDEX = "catalog_product_search_document_trgm_idx"
DESCRIPTION_INDEX = "catalog_product_description_trgm_idx"


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON catalog_product "
        "USING gin (search_document gin_trgm_ops)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {DESCRIPTION_INDEX}")


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {DESCRIPTION_INDEX} ON catalog_product "
        "USING gin (UPPER(description::text) gin_trgm_ops)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_product_search_trigram_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_document",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper(
                    django.db.models.functions.text.Concat(
                        "name",
                        models.Value("\n"),
                        "description",
                        models.Value("\n"),
                        "sku",
                        output_field=models.TextField(),
                    )
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
