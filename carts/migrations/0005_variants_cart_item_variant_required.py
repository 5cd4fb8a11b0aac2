"""Cart lines are per variant: the product column goes, the variant is required."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("carts", "0004_variants_cart_lines_default_variant")]

    operations = [
        migrations.RemoveConstraint(
            model_name="cartitem", name="carts_item_one_line_per_product"
        ),
        migrations.RemoveField(model_name="cartitem", name="product"),
        migrations.AlterField(
            model_name="cartitem",
            name="variant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="cart_items",
                to="catalog.productvariant",
            ),
        ),
        migrations.AddConstraint(
            model_name="cartitem",
            constraint=models.UniqueConstraint(
                fields=("cart", "variant"), name="carts_item_one_line_per_variant"
            ),
        ),
    ]
