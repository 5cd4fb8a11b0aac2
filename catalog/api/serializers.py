from decimal import Decimal

from django.conf import settings
from django.core.validators import FileExtensionValidator
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from catalog import images
from catalog.models import (
    CATEGORY_CYCLE_MESSAGE,
    IMAGE_EXTENSIONS,
    Category,
    Product,
    ProductImage,
    ProductOption,
    ProductVariant,
    Sale,
    from_price_variant,
    validate_image_size,
)


class CategorySerializer(serializers.ModelSerializer):
    """A category; `parent` is written and shown as the parent's slug."""

    parent = serializers.SlugRelatedField(  # type: ignore[assignment]  # a declared field, not Field.parent: the metaclass takes it
        slug_field="slug",
        queryset=Category.objects.all(),
        allow_null=True,
        required=False,
    )
    product_count = serializers.SerializerMethodField(
        help_text="Active products in this category and all its subcategories."
    )

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "parent", "product_count"]
        extra_kwargs = {
            "slug": {
                "required": False,
                "allow_blank": True,
                "help_text": "Derived from the name when absent.",
            }
        }

    def get_product_count(self, category) -> int:
        counts = self.context.get("product_counts")
        if counts is None:
            counts = Category.objects.active_product_counts()
        return counts.get(category.pk, 0)

    def validate_parent(self, parent):
        if (
            parent is not None
            and self.instance is not None
            and parent.pk in Category.objects.subtree_ids(self.instance.pk)
        ):
            raise serializers.ValidationError(CATEGORY_CYCLE_MESSAGE)
        return parent


class ProductCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class ProductImageSerializer(serializers.ModelSerializer):
    """A picture of a product: the original (for zoom) and its renditions."""

    url = serializers.ImageField(source="image", read_only=True)
    alt = serializers.CharField(source="alt_text", read_only=True)
    thumbnail = serializers.SerializerMethodField(
        help_text="The card's copy (WebP), as wide as CATALOG_IMAGE_RENDITIONS says."
    )
    medium = serializers.SerializerMethodField(
        help_text="The product page's copy (WebP)."
    )

    class Meta:
        model = ProductImage
        fields = ["url", "alt", "thumbnail", "medium"]
        read_only_fields = fields

    def get_thumbnail(self, image) -> str:
        return self.absolute(images.rendition_url(image, "thumbnail"))

    def get_medium(self, image) -> str:
        return self.absolute(images.rendition_url(image, "medium"))

    def absolute(self, url: str) -> str:
        request = self.context.get("request")
        return url if request is None else request.build_absolute_uri(url)


OPTIONS_HELP = "{option name: value}, naming each of the product's option types."


class OptionTypeSerializer(serializers.ModelSerializer):
    """One option type of a product and its values, in order."""

    values = serializers.ListField(
        child=serializers.CharField(max_length=50), min_length=1, max_length=100
    )

    class Meta:
        model = ProductOption
        fields = ["name", "values"]


class VariantSerializer(serializers.ModelSerializer):
    """A variant as clients read it."""

    in_stock = serializers.BooleanField(read_only=True)
    options = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text=OPTIONS_HELP
    )
    price = serializers.DecimalField(
        source="current_price",
        max_digits=10,
        decimal_places=2,
        read_only=True,
        help_text="The price paid now: the sale price during a sale.",
    )
    compare_at_price = serializers.DecimalField(
        source="was_price",
        max_digits=10,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text='The struck-through "was" price: the price before the sale '
        "during a sale, else the compare-at price staff set, or null.",
    )

    class Meta:
        model = ProductVariant
        fields = [
            "id",
            "sku",
            "options",
            "price",
            "compare_at_price",
            "stock",
            "in_stock",
            "is_active",
        ]
        read_only_fields = fields


class VariantWriteSerializer(serializers.ModelSerializer):
    """What staff send to create or change a variant; `stock` is an adjustment."""

    options = serializers.DictField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text=OPTIONS_HELP + " Leave out for a product without options.",
    )
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    compare_at_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        required=False,
        help_text='The "was" price, above `price`; null for none.',
    )
    stock = serializers.IntegerField(
        min_value=0, max_value=2_147_483_647, required=False
    )

    class Meta:
        model = ProductVariant
        fields = [
            "sku",
            "options",
            "price",
            "compare_at_price",
            "stock",
            "is_active",
            "position",
        ]


# The schema of the product's answer, which catalog.queries writes out.
class ProductSerializer(serializers.ModelSerializer):
    """A product as clients read it.

    `price` is the lowest active variant's ("from"), `stock` the sum of the
    active variants', `compare_at_price` that of the variant giving the price.
    """

    currency = serializers.SerializerMethodField()
    in_stock = serializers.SerializerMethodField()
    category = ProductCategorySerializer(read_only=True)
    image = serializers.SerializerMethodField(
        help_text="The first picture's URL (its original), or null."
    )
    images = ProductImageSerializer(many=True, read_only=True)
    compare_at_price = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField(
        help_text="Active variants only, but for staff."
    )
    option_types = OptionTypeSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "slug",
            "description",
            "price",
            "currency",
            "stock",
            "in_stock",
            "category",
            "image",
            "images",
            "is_active",
            "created_at",
            "updated_at",
            "compare_at_price",
            "variants",
            "option_types",
        ]
        read_only_fields = fields

    def get_currency(self, product) -> str:
        return settings.STORE_CURRENCY

    def get_in_stock(self, product) -> bool:
        return product.stock > 0

    def get_image(self, product) -> str | None:
        first = product.first_image
        if first is None:
            return None
        request = self.context.get("request")
        url = first.image.url
        return url if request is None else request.build_absolute_uri(url)

    @extend_schema_field(
        serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    )
    def get_compare_at_price(self, product) -> str | None:
        variant = from_price_variant(product.variants.all())
        if variant is None or variant.was_price is None:
            return None
        return serializers.DecimalField(
            max_digits=10, decimal_places=2
        ).to_representation(variant.was_price)

    @extend_schema_field(VariantSerializer(many=True))
    def get_variants(self, product) -> list[dict]:
        variants = product.variants.all()
        if not self.context.get("staff"):
            variants = [variant for variant in variants if variant.is_active]
        return VariantSerializer(variants, many=True).data  # type: ignore[return-value]  # many=True: a list


class ProductWriteSerializer(serializers.ModelSerializer):
    """What staff send to create or change a product.

    The category is named by its slug; a new `stock` figure is recorded as a
    stock adjustment by the staff member.
    """

    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all()
    )
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Greater than 0, two decimal places at most: the default "
        "variant's (refused on a product with several variants).",
    )
    stock = serializers.IntegerField(
        min_value=0, max_value=2_147_483_647, required=False
    )
    image = serializers.ImageField(
        required=False,
        allow_null=True,
        validators=[
            FileExtensionValidator(allowed_extensions=IMAGE_EXTENSIONS),
            validate_image_size,
        ],
        help_text="The first picture: a new file replaces it, null removes it.",
    )
    option_types = OptionTypeSerializer(many=True, required=False)
    variants = VariantWriteSerializer(
        many=True,
        required=False,
        allow_empty=False,
        help_text="On create only: the product's variants (its price and stock "
        "are then theirs). Without them, one default variant takes `sku`, "
        "`price` and `stock`.",
    )

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "slug",
            "description",
            "price",
            "stock",
            "category",
            "image",
            "is_active",
            "option_types",
            "variants",
        ]
        extra_kwargs = {
            "slug": {
                "required": False,
                "allow_blank": True,
                "help_text": "Derived from the name when absent (suffixed to "
                "stay unique); an explicit slug that is taken is refused.",
            },
        }

    def validate(self, attrs):
        if self.instance is not None and "variants" in attrs:
            raise serializers.ValidationError(
                {"variants": "Change variants at products/{slug}/variants/."}
            )
        if self.instance is None and "variants" not in attrs and "price" not in attrs:
            raise serializers.ValidationError({"price": "This field is required."})
        return attrs


# The schema of the facets' answer, which catalog.facets writes out.
class CategoryCountSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    count = serializers.IntegerField(
        help_text="Active products in the category and its subcategories."
    )


class OptionCountSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class PriceRangeSerializer(serializers.Serializer):
    min = serializers.DecimalField(max_digits=10, decimal_places=2)
    max = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        help_text="Not included in the range; null for the last, open-ended one.",
    )
    count = serializers.IntegerField()


class ProductFacetsSerializer(serializers.Serializer):
    """Counts of the active products that match the list's other filters."""

    count = serializers.IntegerField(help_text="Products the list would show.")
    categories = CategoryCountSerializer(
        many=True, help_text="Every category; its count leaves `category` out."
    )
    options = serializers.DictField(
        child=OptionCountSerializer(many=True),
        help_text="Per option name, the products per value of their variants.",
    )
    price_ranges = PriceRangeSerializer(
        many=True,
        help_text="The store's price bands; their counts leave `min_price` and "
        "`max_price` out.",
    )
    in_stock = inline_serializer(
        "StockCounts",
        fields={
            "true": serializers.IntegerField(),
            "false": serializers.IntegerField(),
        },
        help_text="Products with and without stock; leaves `in_stock` out.",
    )


class SaleSerializer(serializers.ModelSerializer):
    """A scheduled sale, naming what it covers by slug (variants by id).

    Shapes only: the service checks the window and the value (the model's
    clean) and writes the prices.
    """

    categories = serializers.SlugRelatedField(
        many=True,
        required=False,
        slug_field="slug",
        queryset=Category.objects.all(),
        help_text="Every product of these categories and their subcategories.",
    )
    products = serializers.SlugRelatedField(
        many=True, required=False, slug_field="slug", queryset=Product.objects.all()
    )
    variants = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ProductVariant.objects.all()
    )

    class Meta:
        model = Sale
        fields = [
            "id",
            "name",
            "kind",
            "value",
            "starts_at",
            "ends_at",
            "categories",
            "products",
            "variants",
        ]
        # The model's constraints are the service's to check, with the
        # messages its clean() gives.
        validators: list = []
