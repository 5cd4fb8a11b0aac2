from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0010_images_move_product_images'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='product',
            name='image',
        ),
    ]
