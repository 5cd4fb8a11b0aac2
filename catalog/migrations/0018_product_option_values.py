"""Each product's option values, for the facets to count from product rows.

Filled here for the products that exist; the catalog services keep them
(`refresh_aggregates`) from then on.
"""

import django.contrib.postgres.fields
from django.db import migrations, models


def fill_option_values(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    quote = schema_editor.connection.ops.quote_name
    product, variant = Product._meta, ProductVariant._meta
    pk = quote(product.pk.column)
    values = quote(product.get_field("option_values").column)
    owner = quote(variant.get_field("product").column)
    options = quote(variant.get_field("options").column)
    active = quote(variant.get_field("is_active").column)
    # Accepted bandit B608: table and column names from the models' metadata.
    schema_editor.execute(
        f"UPDATE {quote(product.db_table)} AS p SET {values} = ARRAY("  # nosec B608
        f"SELECT DISTINCT jsonb_build_array(o.key, o.value)::text "
        f"FROM {quote(variant.db_table)} AS v "
        f"CROSS JOIN LATERAL jsonb_each_text(v.{options}) AS o "
        f"WHERE v.{owner} = p.{pk} AND v.{active} ORDER BY 1)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0017_scale_search_name_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="option_values",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(), blank=True, default=list, editable=False
            ),
        ),
        migrations.RunPython(fill_option_values, migrations.RunPython.noop),
    ]
