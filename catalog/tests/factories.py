import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import services
from catalog.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    """A category; its slug is derived from the name."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    description = "Things worth having."


class ProductFactory(factory.django.DjangoModelFactory):
    """An active product with 10 units, created through the stock service.

    Its initial stock is a movement, so `reconcile_stock` holds for
    products made here.
    """

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine product."
    price = Decimal("19.99")
    stock = 10
    is_active = True
    category = factory.SubFactory(CategoryFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_product(**kwargs)


class SizedProductFactory(ProductFactory):
    """A product with a Size option and one variant per size.

    `variants` are (sku, size, price, stock) rows; by default S at 12.00
    (3 units), M at 10.00 (none) and L at 14.00 (5 units).
    """

    sizes = ("S", "M", "L")
    variants = factory.LazyAttribute(
        lambda product: [
            (f"{product.sku}-S", "S", Decimal("12.00"), 3),
            (f"{product.sku}-M", "M", Decimal("10.00"), 0),
            (f"{product.sku}-L", "L", Decimal("14.00"), 5),
        ]
    )

    @classmethod
    def _create(cls, model_class, *args, variants, **kwargs):
        # The product's price and stock are its variants'.
        del kwargs["price"], kwargs["stock"]
        return services.create_product(
            option_types=[{"name": "Size", "values": list(kwargs.pop("sizes"))}],
            variants=[
                {"sku": sku, "options": {"Size": size}, "price": price, "stock": stock}
                for sku, size, price, stock in variants
            ],
            **kwargs,
        )


def image_file(name="photo.png", image_format="PNG", size=(8, 8)):
    """A small, real image file, as a browser would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), f"image/{image_format.lower()}")


def image_inline_form(*images, initial=0):
    """The product admin's pictures inline, as the browser posts it.

    Each of `images` is one picture's fields (image, alt_text, position, id,
    DELETE); the first `initial` are the product's pictures already.
    """
    form = {
        "images-TOTAL_FORMS": str(len(images)),
        "images-INITIAL_FORMS": str(initial),
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for number, fields in enumerate(images):
        form.update(
            {f"images-{number}-{name}": value for name, value in fields.items()}
        )
    return form


def variant_of(product):
    """The product's one variant (the default variant of a factory's product)."""
    return product.variants.get()
