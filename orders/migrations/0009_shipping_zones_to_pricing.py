"""Shipping zones and methods now belong to pricing (its 0001 moved the tables)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_order_shipping_method"),
        ("pricing", "0001_shipping_zones_from_orders"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ShippingMethod"),
                migrations.DeleteModel(name="ShippingZone"),
            ],
            database_operations=[],
        ),
    ]
