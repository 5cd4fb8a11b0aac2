"""Each order line names its product's default variant (options stay empty)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def point_lines_at_default_variants(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    OrderItem.objects.filter(product__isnull=False, variant__isnull=True).update(
        variant=Subquery(
            ProductVariant.objects.filter(product=OuterRef("product"))
            .order_by("position", "pk")
            .values("pk")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_variants_order_item_variant")]

    operations = [
        migrations.RunPython(
            point_lines_at_default_variants, migrations.RunPython.noop
        ),
    ]
