"""Migrations 0009-0011: each product's image becomes its first ProductImage."""

from decimal import Decimal

import pytest

from core.testing import migrate

BEFORE = [("catalog", "0008_printable_text_validators")]
AFTER = [("catalog", "0011_images_remove_product_image")]


@pytest.fixture
def before_images(transactional_db, latest_schema_afterwards):
    """The models as migration 0008 left them."""
    return migrate(BEFORE)


def products_of(apps):
    Category = apps.get_model("catalog", "Category")
    Product = apps.get_model("catalog", "Product")
    kitchen = Category.objects.create(name="Kitchen", slug="kitchen")

    def product(sku, name, image):
        return Product.objects.create(
            sku=sku,
            name=name,
            slug=sku.lower(),
            price=Decimal("5.00"),
            category=kitchen,
            image=image,
        )

    return {
        made.sku: made
        for made in [
            product("MUG", "Blue Mug", "products/2026/01/mug.png"),
            product("PAN", "Pan", ""),
            product("POT", "Teapot", "products/2026/02/pot.jpg"),
        ]
    }


def test_each_products_image_becomes_its_first_picture_named_after_it(
    before_images,
):
    products = products_of(before_images)

    after = migrate(AFTER)

    ProductImage = after.get_model("catalog", "ProductImage")
    moved = ProductImage.objects.order_by("product_id").values_list(
        "product_id", "image", "alt_text", "position", "renditions"
    )
    assert list(moved) == [
        (products["MUG"].pk, "products/2026/01/mug.png", "Blue Mug", 0, {}),
        (products["POT"].pk, "products/2026/02/pot.jpg", "Teapot", 0, {}),
    ]
    Product = after.get_model("catalog", "Product")
    assert "image" not in {field.name for field in Product._meta.get_fields()}
    assert Product.objects.count() == 3


def test_migrating_back_gives_each_product_its_first_picture(before_images):
    pan = products_of(before_images)["PAN"]
    after = migrate(AFTER)
    ProductImage = after.get_model("catalog", "ProductImage")
    ProductImage.objects.create(
        product_id=pan.pk, image="products/pan-side.png", position=1
    )
    ProductImage.objects.create(product_id=pan.pk, image="products/pan.png")

    before = migrate(BEFORE)

    Product = before.get_model("catalog", "Product")
    images = dict(Product.objects.values_list("sku", "image"))
    assert images == {
        "MUG": "products/2026/01/mug.png",
        "PAN": "products/pan.png",
        "POT": "products/2026/02/pot.jpg",
    }
