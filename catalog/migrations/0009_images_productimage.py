import catalog.models
import core.text
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0008_printable_text_validators'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductImage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image', models.ImageField(upload_to='products/%Y/%m/', validators=[django.core.validators.FileExtensionValidator(allowed_extensions=['jpg', 'jpeg', 'png', 'webp', 'gif']), catalog.models.validate_image_size])),
                ('alt_text', models.CharField(blank=True, help_text="What the picture shows, for those who cannot see it (the product's name when left empty).", max_length=250, validators=[core.text.PrintableTextValidator()], verbose_name='alt text')),
                ('position', models.PositiveIntegerField(default=0, help_text='Pictures are shown by position; the first is the main one.')),
                ('renditions', models.JSONField(blank=True, default=dict, editable=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='images', to='catalog.product')),
            ],
            options={
                'ordering': ['position', 'id'],
                'indexes': [models.Index(fields=['product', 'position', 'id'], name='catalog_productimage_order_idx')],
            },
        ),
    ]
