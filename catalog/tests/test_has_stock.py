"""`Product.has_stock`: written by the database (migration 0019), never stale."""

import pytest

from catalog import services
from catalog.models import Product
from catalog.tests.factories import ProductFactory


def has_stock(product):
    return Product.objects.filter(pk=product.pk).values_list("has_stock", flat=True)[0]


@pytest.mark.django_db
def test_has_stock_follows_the_stock_through_the_services(staff):
    product = ProductFactory(stock=1)
    assert has_stock(product) is True

    variant = product.variants.get()
    services.set_stock(variant=variant, stock=0, user=staff)
    assert has_stock(product) is False

    services.set_stock(variant=variant, stock=3, user=staff)
    assert has_stock(product) is True


@pytest.mark.django_db
def test_a_model_save_cannot_write_a_stale_has_stock():
    # Created with stock, the instance still holds the field's default.
    product = ProductFactory(stock=2)
    product.refresh_from_db()
    product.has_stock = False
    product.name = "Renamed"

    product.save()

    assert has_stock(product) is True
    assert Product.objects.in_stock().filter(pk=product.pk).exists()
