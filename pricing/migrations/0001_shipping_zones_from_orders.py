"""Shipping zones and methods move from orders to pricing, rows and all.

The models' state moves as it is (tables named orders_*), then the tables,
the index and the constraint take pricing's names, and the content types
follow, so that staff keep the permissions they had on them.
"""

from decimal import Decimal

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import core.text

MOVED_MODELS = ["shippingzone", "shippingmethod"]


def move_content_types(apps, schema_editor, source, target):
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.using(schema_editor.connection.alias).filter(
        app_label=source, model__in=MOVED_MODELS
    ).update(app_label=target)


def forwards(apps, schema_editor):
    move_content_types(apps, schema_editor, "orders", "pricing")


def backwards(apps, schema_editor):
    move_content_types(apps, schema_editor, "pricing", "orders")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0008_order_shipping_method"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ShippingZone",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, validators=[core.text.PrintableTextValidator()])),
                        ("countries", django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=2), size=None)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "orders_shippingzone",
                        "ordering": ["name", "id"],
                        "indexes": [django.contrib.postgres.indexes.GinIndex(fields=["countries"], name="orders_zone_countries_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="ShippingMethod",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.SlugField(unique=True)),
                        ("name", models.CharField(max_length=100, validators=[core.text.PrintableTextValidator()])),
                        ("price", models.DecimalField(decimal_places=2, max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal("0"))])),
                        ("free_above", models.DecimalField(blank=True, decimal_places=2, help_text="Free when the order's subtotal is at or above this; empty: never.", max_digits=10, null=True, validators=[django.core.validators.MinValueValidator(Decimal("0"))])),
                        ("estimated_days", models.PositiveSmallIntegerField(help_text="Working days from dispatch to the door, as shoppers are told.")),
                        ("zone", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="methods", to="pricing.shippingzone")),
                    ],
                    options={
                        "db_table": "orders_shippingmethod",
                        "ordering": ["price", "name", "id"],
                        "constraints": [models.CheckConstraint(condition=models.Q(("price__gte", Decimal("0")), models.Q(("free_above__isnull", True), ("free_above__gte", Decimal("0")), _connector="OR")), name="orders_shipping_method_amounts_not_negative")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="shippingzone", table=None),
        migrations.AlterModelTable(name="shippingmethod", table=None),
        migrations.RenameIndex(
            model_name="shippingzone",
            new_name="pricing_zone_countries_idx",
            old_name="orders_zone_countries_idx",
        ),
        migrations.RemoveConstraint(
            model_name="shippingmethod",
            name="orders_shipping_method_amounts_not_negative",
        ),
        migrations.AddConstraint(
            model_name="shippingmethod",
            constraint=models.CheckConstraint(condition=models.Q(("price__gte", Decimal("0")), models.Q(("free_above__isnull", True), ("free_above__gte", Decimal("0")), _connector="OR")), name="pricing_shipping_method_amounts_not_negative"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
