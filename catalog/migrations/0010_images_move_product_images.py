"""Each product's image becomes its first ProductImage, its name the alt text.

Its renditions are made afterwards by `manage.py make_image_renditions`
(a migration imports no app code); until then the pages and the API show
the original.
"""

from django.db import migrations

BATCH = 1000


def move_images(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductImage = apps.get_model("catalog", "ProductImage")
    pictured = Product.objects.exclude(image="").order_by("pk")
    batch = []
    for product_id, name, image in pictured.values_list("pk", "name", "image").iterator():
        batch.append(
            ProductImage(product_id=product_id, image=image, alt_text=name, position=0)
        )
        if len(batch) == BATCH:
            ProductImage.objects.bulk_create(batch)
            batch = []
    ProductImage.objects.bulk_create(batch)


def restore_images(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductImage = apps.get_model("catalog", "ProductImage")
    for image in ProductImage.objects.order_by("product_id", "-position", "-pk"):
        # The last written is the product's first image.
        Product.objects.filter(pk=image.product_id).update(image=image.image)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0009_images_productimage'),
    ]

    operations = [
        migrations.RunPython(move_images, restore_images),
    ]
