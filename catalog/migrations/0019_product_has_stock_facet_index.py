"""Each product's `has_stock`, kept by the database, and the facets' index.

`has_stock` is `stock > 0`, written by a trigger on every insert and on
every update that writes `stock` (or `has_stock` itself, so that no stale
value from a model instance sticks). A flag rather than `stock` in the
index: an update that leaves every indexed column as it was stays in place
(HOT, migration 0007), and a sale changes `stock` but `has_stock` only with
the last unit.

The index holds what the facets count by (the price, and as included
columns the category, `has_stock` and the option values) for the active
products: the counts of the catalog, of an option filter or of a price
range are index-only scans (docs/search.md). The active variants' index
includes their options, for the option counts of a category's variants.
"""

from django.db import migrations, models


def _names(apps, schema_editor):
    product = apps.get_model("catalog", "Product")._meta
    quote = schema_editor.connection.ops.quote_name
    return {
        "table": quote(product.db_table),
        "stock": quote(product.get_field("stock").column),
        "has_stock": quote(product.get_field("has_stock").column),
        "function": quote(f"{product.db_table}_has_stock"),
    }


def create_trigger(apps, schema_editor):
    names = _names(apps, schema_editor)
    # Accepted bandit B608: table, column and function names from the model's
    # metadata only.
    schema_editor.execute(
        f"CREATE FUNCTION {names['function']}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.{names['has_stock']} := NEW.{names['stock']} > 0; RETURN NEW; "
        f"END $$"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {names['function']} BEFORE INSERT OR UPDATE OF "
        f"{names['stock']}, {names['has_stock']} ON {names['table']} "
        f"FOR EACH ROW EXECUTE FUNCTION {names['function']}()"
    )
    schema_editor.execute(
        f"UPDATE {names['table']} SET {names['has_stock']} = "  # nosec B608
        f"{names['stock']} > 0"
    )


def drop_trigger(apps, schema_editor):
    names = _names(apps, schema_editor)
    schema_editor.execute(f"DROP TRIGGER {names['function']} ON {names['table']}")
    schema_editor.execute(f"DROP FUNCTION {names['function']}()")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0018_product_option_values"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="has_stock",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True)),
                fields=["price"],
                include=("category", "has_stock", "option_values"),
                name="catalog_product_facet_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="productvariant",
            name="catalog_variant_active_idx",
        ),
        migrations.AddIndex(
            model_name="productvariant",
            index=models.Index(
                condition=models.Q(("is_active", True)),
                fields=["product", "position", "id"],
                include=("options",),
                name="catalog_variant_active_idx",
            ),
        ),
    ]
