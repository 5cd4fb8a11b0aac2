"""Each cart line takes its product's default variant."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def point_lines_at_default_variants(apps, schema_editor):
    CartItem = apps.get_model("carts", "CartItem")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    CartItem.objects.update(
        variant=Subquery(
            ProductVariant.objects.filter(product=OuterRef("product"))
            .order_by("position", "pk")
            .values("pk")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("carts", "0003_variants_cart_item_variant")]

    operations = [
        migrations.RunPython(
            point_lines_at_default_variants, migrations.RunPython.noop
        ),
    ]
