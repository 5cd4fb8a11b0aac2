"""Give every product one default variant, and point its movements at it.

The default variant carries the product's sku, price and stock (options {}),
so each ledger still adds up: the variant's stock is the product's, and the
product's movements are the variant's.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

BATCH = 2000


def add_default_variants(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    StockMovement = apps.get_model("catalog", "StockMovement")
    products = Product.objects.filter(variants__isnull=True).order_by("pk")
    last = 0
    while True:
        batch = list(
            products.filter(pk__gt=last).values(
                "pk", "sku", "price", "stock", "created_at"
            )[:BATCH]
        )
        if not batch:
            break
        ProductVariant.objects.bulk_create(
            ProductVariant(
                product_id=row["pk"],
                sku=row["sku"],
                options={},
                price=row["price"],
                stock=row["stock"],
                is_active=True,
                position=0,
                created_at=row["created_at"],
            )
            for row in batch
        )
        last = batch[-1]["pk"]
    StockMovement.objects.filter(product__isnull=False, variant__isnull=True).update(
        variant=Subquery(
            ProductVariant.objects.filter(product=OuterRef("product"))
            .order_by("pk")
            .values("pk")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0014_variants_product_variants")]

    operations = [
        migrations.RunPython(add_default_variants, migrations.RunPython.noop),
    ]
