import io
from datetime import timedelta
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from catalog import services
from catalog.models import Category, Product, Sale


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


def variant_row(*values, price, stock=0, **fields):
    """A row of SizedProductFactory's `variants`: a variant's option values
    (in the product's option order), its price, its stock and any other
    field of a new variant (`sku`, `compare_at_price`, `is_active`)."""
    return {"values": values, "price": Decimal(price), "stock": stock, **fields}


class SizedProductFactory(ProductFactory):
    """A product with option types and a variant per row of `variants`.

    `option_types` maps each option type's name to its values, in order;
    `variants` are made by `variant_row()`. A variant's SKU is the product's
    and its option values, upper case (SKU-00001-S), unless it names one.
    By default a Size: S at 12.00 (3 units), M at 10.00 (none) and L at
    14.00 (5 units).
    """

    option_types = {"Size": ["S", "M", "L"]}
    variants = [
        variant_row("S", price="12.00", stock=3),
        variant_row("M", price="10.00"),
        variant_row("L", price="14.00", stock=5),
    ]

    @classmethod
    def _create(cls, model_class, *args, option_types, variants, **kwargs):
        # The product's price and stock are its variants'.
        del kwargs["price"], kwargs["stock"]
        names = list(option_types)
        return services.create_product(
            option_types=[
                {"name": name, "values": list(values)}
                for name, values in option_types.items()
            ],
            variants=[
                {
                    "sku": "-".join([kwargs["sku"], *row["values"]]).upper(),
                    "options": dict(zip(names, row["values"], strict=True)),
                    **{name: value for name, value in row.items() if name != "values"},
                }
                for row in variants
            ],
            **kwargs,
        )


class TeeFactory(SizedProductFactory):
    """A tee in Colour (Red, Blue) and Size (S, M), in that option order.

    Red S at 15.00, was 20.00 (2 units); Red M at 16.00 (none); Blue M at
    17.00 (3 units); Blue S is not made. Its SKU is TEE (give another for a
    second tee), its variants' TEE-RED-S, TEE-RED-M and TEE-BLUE-M.
    """

    sku = "TEE"
    name = "Tee"
    option_types = {"Colour": ["Red", "Blue"], "Size": ["S", "M"]}
    variants = [
        variant_row(
            "Red", "S", price="15.00", stock=2, compare_at_price=Decimal("20.00")
        ),
        variant_row("Red", "M", price="16.00"),
        variant_row("Blue", "M", price="17.00", stock=3),
    ]


class SaleFactory(factory.django.DjangoModelFactory):
    """A sale of 20 % off, running from an hour ago to an hour from now.

    `products`, `variants` and `categories` are what it covers; it is saved
    through the service, so its prices apply at once.
    """

    class Meta:
        model = Sale

    name = factory.Sequence(lambda n: f"Sale {n}")
    kind = Sale.Kind.PERCENTAGE
    value = Decimal("20")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        covered = {
            name: kwargs.pop(name)
            for name in ("products", "variants", "categories")
            if name in kwargs
        }
        return services.save_sale(sale=model_class(**kwargs), **covered)


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
