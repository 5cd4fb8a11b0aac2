"""Migration 0018 fills the option values of the products that exist."""

from decimal import Decimal

import pytest

from core.testing import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0017_scale_search_name_index")]
AFTER = [("catalog", "0018_product_option_values")]


@pytest.fixture
def before_option_values(latest_schema_afterwards):
    return migrate(BEFORE)


def test_each_product_gets_its_active_variants_option_pairs(before_option_values):
    Category = before_option_values.get_model("catalog", "Category")
    Product = before_option_values.get_model("catalog", "Product")
    Variant = before_option_values.get_model("catalog", "ProductVariant")
    category = Category.objects.create(name="Tees", slug="tees")
    tee = Product.objects.create(
        sku="TEE", name="Tee", slug="tee", price=Decimal("10.00"), category=category
    )
    plain = Product.objects.create(
        sku="MUG", name="Mug", slug="mug", price=Decimal("8.00"), category=category
    )
    for sku, size, colour, active in [
        ("TEE-S", "S", "Red", True),
        ("TEE-M", "M", "Red", True),
        ("TEE-XL", "XL", "Blue", False),
    ]:
        Variant.objects.create(
            product=tee,
            sku=sku,
            options={"Size": size, "Colour": colour},
            price=Decimal("10.00"),
            is_active=active,
        )
    Variant.objects.create(product=plain, sku="MUG", price=Decimal("8.00"))

    apps = migrate(AFTER)

    values = dict(
        apps.get_model("catalog", "Product").objects.values_list("sku", "option_values")
    )
    assert values == {
        "TEE": ['["Colour", "Red"]', '["Size", "M"]', '["Size", "S"]'],
        "MUG": [],
    }
