import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from catalog import cache
from core.money import CENT
from core.text import PrintableTextValidator, normalize_text_fields

CATEGORY_CYCLE_MESSAGE = "A category cannot sit inside itself or its own subcategories."
IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif"]
# A product's pictures, first (its main picture) to last.
IMAGE_ORDERING = ["position", "id"]
# The tax class of a product that names none (pricing.models.TaxRate).
STANDARD_TAX_CLASS = "standard"
VARIANT_OPTIONS_CONSTRAINT = "catalog_variant_options_per_product"


def name_search_vector() -> models.Func:
    """The part of `Product.search_vector` of weight A: its name and SKU words.

    A GIN index holds it, so that a search can find the products whose
    name or SKU hold a word without reading every match (catalog.search).
    """
    return models.Func(
        models.F("search_vector"),
        function="ts_filter",
        # A literal rather than a parameter: the index's expression and the
        # queries' must read alike for PostgreSQL to match them.
        template="%(function)s(%(expressions)s, '{a}')",
        output_field=SearchVectorField(),
    )


def validate_image_size(image: File) -> None:
    limit = settings.CATALOG_IMAGE_MAX_BYTES
    if image.size > limit:
        raise ValidationError(
            "The image is %(size)s; at most %(limit)s is accepted.",
            code="file_too_large",
            params={"size": filesizeformat(image.size), "limit": filesizeformat(limit)},
        )


class InvalidatingQuerySet[M: models.Model](models.QuerySet[M]):
    """A QuerySet whose bulk writes invalidate the catalog cache on commit.

    Model.save() and delete() do the same on the models, so no write path
    that Django offers can leave a cached page stale (see catalog/cache.py).
    """

    def update(self, **kwargs: Any) -> int:
        rows = super().update(**kwargs)
        if rows:
            cache.invalidate()
        return rows

    def delete(self) -> tuple[int, dict[str, int]]:
        deleted = super().delete()
        if deleted[0]:
            cache.invalidate()
        return deleted

    def bulk_create(
        self,
        objs: Iterable[M],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Collection[str] | None = None,
        unique_fields: Collection[str] | None = None,
    ) -> list[M]:
        objects = super().bulk_create(
            objs,
            batch_size=batch_size,
            ignore_conflicts=ignore_conflicts,
            update_conflicts=update_conflicts,
            update_fields=update_fields,
            unique_fields=unique_fields,
        )
        if objects:
            cache.invalidate()
        return objects

    def bulk_update(
        self, objs: Iterable[M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        rows = super().bulk_update(objs, fields, batch_size=batch_size)
        if rows:
            cache.invalidate()
        return rows


def slug_max_length(model: type[models.Model]) -> int:
    """The longest slug that the model's `slug` field holds."""
    field = model._meta.get_field("slug")
    # A SlugField always has a max_length (50 unless given).
    assert isinstance(field, models.SlugField)
    assert field.max_length is not None
    return field.max_length


class SluggedModel(models.Model):
    """Derives a unique slug from the name when none is given."""

    class Meta:
        abstract = True

    # Attempts at a derived slug when a concurrent save takes the same one.
    SLUG_ATTEMPTS = 5

    # Each model declares the two fields, with its own lengths.
    name: str
    slug: str

    def save(self, **kwargs: Any) -> None:
        if self.slug:
            super().save(**kwargs)
            cache.invalidate()
            return
        for attempt in range(self.SLUG_ATTEMPTS):
            self.slug = self._free_slug()
            try:
                with transaction.atomic():
                    super().save(**kwargs)
            except IntegrityError:
                taken = type(self)._default_manager.filter(slug=self.slug).exists()  # type: ignore[misc]  # abstract model: the plugin sees no slug field
                self.slug = ""
                if not taken or attempt == self.SLUG_ATTEMPTS - 1:
                    raise
            else:
                cache.invalidate()
                return

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        result = super().delete(using=using, keep_parents=keep_parents)
        cache.invalidate()
        return result

    def _free_slug(self) -> str:
        cut = slug_max_length(type(self)) - 8
        # Else the model's name, as its _meta.model_name.
        base = slugify(self.name)[:cut].strip("-") or type(self).__name__.lower()
        others = type(self)._default_manager.exclude(pk=self.pk)
        similar = others.filter(slug__startswith=base).values_list("slug", flat=True)  # type: ignore[misc]  # as in save()
        taken = set(similar)
        if base not in taken:
            return base
        suffix = 2
        while f"{base}-{suffix}" in taken:
            suffix += 1
        return f"{base}-{suffix}"


class CategoryQuerySet(InvalidatingQuerySet["Category"]):
    def with_parent(self) -> Self:
        return self.select_related("parent")

    def subtree_ids(self, category_id: int) -> set[int]:
        """Return the ids of a category and all its descendants (one query)."""
        rows = self.model.objects.order_by().values_list("pk", "parent_id")
        return _subtree(_children_of(rows), category_id)

    def subtree_ids_by_slug(self) -> dict[str, set[int]]:
        """Map each category's slug to the ids of it and its descendants (one query)."""
        rows = list(
            self.model.objects.order_by().values_list("pk", "parent_id", "slug")
        )
        children = _children_of((pk, parent_id) for pk, parent_id, _ in rows)
        return {slug: _subtree(children, pk) for pk, _, slug in rows}

    def subtree_ids_by_id(self) -> dict[int, set[int]]:
        """Map each category's id to the ids of it and its descendants (one query)."""
        rows = list(self.model.objects.order_by().values_list("pk", "parent_id"))
        children = _children_of(rows)
        return {pk: _subtree(children, pk) for pk, _ in rows}

    def active_product_counts(self) -> dict[int, int]:
        """Map each category id to the active products in its subtree (one query).

        The tree is small next to the products, so it is rolled up here
        rather than with a recursive query per category.
        """
        rows = list(
            self.model.objects.annotate(
                direct=Count("products", filter=Q(products__is_active=True))
            ).values_list("pk", "parent_id", "direct")
        )
        parent_of: dict[int, int | None] = {}
        totals: dict[int, int] = {}
        for pk, parent_id, _ in rows:
            parent_of[pk] = parent_id
            totals[pk] = 0
        for pk, _, direct in rows:
            # Add each category's own products to it and every ancestor.
            seen = set()
            node: int | None = pk
            while node is not None and node not in seen:
                seen.add(node)
                totals[node] += direct
                node = parent_of.get(node)
        return totals


def _children_of(
    rows: Iterable[tuple[int, int | None]],
) -> defaultdict[int | None, list[int]]:
    """Map each (pk, parent_id) row's parent to the ids of its children."""
    children: defaultdict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in rows:
        children[parent_id].append(pk)
    return children


def _subtree(
    children: defaultdict[int | None, list[int]], category_id: int
) -> set[int]:
    found = {category_id}
    stack = [category_id]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


class Category(SluggedModel):
    name = models.CharField(max_length=120, validators=[PrintableTextValidator()])
    slug = models.SlugField(max_length=140, unique=True, blank=True)
    description = models.TextField(
        blank=True, validators=[PrintableTextValidator(multiline=True)]
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="Leave empty for a top-level category.",
    )
    position = models.PositiveIntegerField(
        default=0, help_text="Categories are listed by position, then name."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def save(self, **kwargs: Any) -> None:
        normalize_text_fields(self)
        moved = not self._state.adding
        super().save(**kwargs)
        if moved and Sale.categories.through.objects.exists():
            # A move in the tree may take products into or out of a
            # category's sale: the next read writes the sale prices again.
            SalePriceState.objects.filter(pk=1).update(next_change_at=timezone.now())

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", args=[self.slug])

    def clean(self) -> None:
        super().clean()
        if (
            self.parent_id is not None
            and self.pk is not None
            and self.parent_id in Category.objects.subtree_ids(self.pk)
        ):
            raise ValidationError({"parent": CATEGORY_CYCLE_MESSAGE})


class LedgeredStockModel(models.Model):
    """A row whose `stock` changes only through catalog.services.

    The stock service records a StockMovement with every change; save()
    leaves the column alone on existing rows, so that an ordinary save of a
    loaded row cannot write back a figure that a concurrent sale has since
    changed, and a figure set by hand is refused rather than silently dropped.
    """

    stock = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def save(self, **kwargs: Any) -> None:
        if not self._state.adding:
            if "stock" in self.__dict__ and self.stock != self._saved_stock:
                raise ValueError(
                    f"{type(self).__name__}.stock changes only through "
                    "catalog.services (adjust_stock, set_stock, take_stock, "
                    "return_stock), which record a stock movement."
                )
            if kwargs.get("update_fields") is None:
                deferred = self.get_deferred_fields()
                kwargs["update_fields"] = [
                    field.name
                    for field in self._meta.concrete_fields
                    if not field.primary_key
                    and field.name != "stock"
                    and field.attname not in deferred
                ]
        super().save(**kwargs)
        self._note_saved_values()

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        **kwargs: Any,
    ) -> Self:
        row = super().from_db(db, field_names, values, **kwargs)
        row._note_saved_values()
        return row

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: models.QuerySet[Self] | None = None,
    ) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._note_saved_values()

    def _note_saved_values(self) -> None:
        """Note the stock figure that the row now holds."""
        self._saved_stock = self.__dict__.get("stock")


class ProductQuerySet(InvalidatingQuerySet["Product"]):
    def active(self) -> Self:
        return self.filter(is_active=True)

    def with_variants(self) -> Self:
        """Products with their variants and option types (two more queries)."""
        return self.prefetch_related("variants", "option_types")

    def in_stock(self) -> Self:
        return self.filter(has_stock=True)

    def out_of_stock(self) -> Self:
        return self.filter(has_stock=False)

    def low_in_stock(self, threshold: int) -> Self:
        """Products that are still in stock but at or below `threshold` units."""
        return self.filter(stock__gt=0, stock__lte=threshold)

    def with_category(self) -> Self:
        return self.select_related("category")

    def on_sale(self) -> Self:
        """Products with an active variant that a sale in force lowers."""
        return self.filter(Exists(_variants_on_sale()))

    def not_on_sale(self) -> Self:
        return self.filter(~Exists(_variants_on_sale()))

    def with_images(self) -> Self:
        return self.prefetch_related("images")

    def with_price_is_from(self) -> Self:
        """Annotate `price_is_from`: whether an active variant costs more than
        the product's price (the cheapest's), so that a list says "From"
        before it in the same statement, not a query per product."""
        return self.annotate(price_is_from=Exists(_variants_dearer()))


def _variants_on_sale() -> "models.QuerySet[ProductVariant]":
    return ProductVariant.objects.filter(
        product=OuterRef("pk"), is_active=True, sale_price__isnull=False
    )


def option_pair(name: str, value: str) -> str:
    """The text of an option (name, value) in `Product.option_values`.

    As PostgreSQL writes `jsonb_build_array(name, value)::text` (the catalog
    services fill the column so): JSON, ", " between the two, characters
    beyond ASCII as they are.
    """
    return json.dumps([name, value], ensure_ascii=False)


def option_pair_of(text: str) -> tuple[str, str]:
    """The (name, value) of an `option_values` entry."""
    name, value = json.loads(text)
    return name, value


def _variants_dearer() -> "models.QuerySet[ProductVariant]":
    """The active variants whose price paid is above their product's price."""
    return (
        ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        .alias(paid=Coalesce("sale_price", "price"))
        .filter(paid__gt=OuterRef("price"))
    )


class ProductManager(models.Manager["Product"]):
    def get_queryset(self) -> models.QuerySet["Product"]:
        # The search vector is read by the database's search alone: rows
        # loaded for a page, an API answer or the cache leave it behind.
        return super().get_queryset().defer("search_vector")


class Product(LedgeredStockModel, SluggedModel):
    sku = models.CharField(
        "SKU", max_length=64, unique=True, validators=[PrintableTextValidator()]
    )
    name = models.CharField(max_length=200, validators=[PrintableTextValidator()])
    slug = models.SlugField(max_length=220, unique=True, blank=True)
    description = models.TextField(
        blank=True, validators=[PrintableTextValidator(multiline=True)]
    )
    # The "from" price: the lowest price of the active variants, kept by
    # catalog.services in the transaction of every variant change, as `stock`
    # is the sum of their stock. Columns rather than a join, so that every
    # filter, ordering and index of the list works at 100,000 products.
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        # The form error beside the field; the check constraint backs it.
        validators=[MinValueValidator(CENT)],
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Only active products are for sale."
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products"
    )
    tax_class = models.SlugField(
        max_length=50,
        default=STANDARD_TAX_CLASS,
        db_default=STANDARD_TAX_CLASS,
        help_text='The tax rates that apply: "standard", or a class with its '
        'own rates (such as "books").',
    )
    # More words the search finds the product by, weighted as its category's
    # name: the catalog services write them (a variant's SKU and option
    # values), never a form.
    search_terms = models.TextField(blank=True, editable=False)
    # The option values its active variants have, each a JSON pair
    # '["Size", "M"]': the catalog services write them, so that the facets
    # count products by option value from the product rows alone.
    option_values = ArrayField(
        models.TextField(), default=list, blank=True, editable=False
    )
    # Written by the database's trigger only (docs/search.md): the name and
    # SKU, the category's name and search_terms, the description, weighted
    # A, B and C in the store's SEARCH_CONFIG.
    search_vector = SearchVectorField(null=True, editable=False)
    # Whether `stock` is above zero, written by the database's trigger only
    # (migration 0019), so that the facets' index holds it: not `stock`
    # itself, which every sale changes (see the indexes below). The trigger
    # runs before the NOT NULL check: the previous release, still serving
    # while this one migrates, inserts products without the column.
    has_stock = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductManager.from_queryset(ProductQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gt=Decimal("0")),
                name="catalog_product_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="catalog_product_stock_not_negative"
            ),
        ]
        indexes = [
            # The public list always filters is_active; each index serves
            # one of its orderings (the default -created_at, price, name).
            models.Index(
                fields=["is_active", "-created_at", "-id"],
                name="catalog_product_newest_idx",
            ),
            models.Index(
                fields=["is_active", "price"], name="catalog_product_price_idx"
            ),
            models.Index(fields=["is_active", "name"], name="catalog_product_name_idx"),
            # A category's page by price: both its COUNT(*) and its first rows
            # come from the index alone.
            models.Index(
                fields=["category", "price"],
                condition=Q(is_active=True),
                name="catalog_product_cat_price_idx",
            ),
            GinIndex(fields=["search_vector"], name="catalog_product_search_idx"),
            GinIndex(name_search_vector(), name="catalog_product_name_tsv_idx"),
            # The facets' counts of the catalog, of an option or of a price
            # range read this index alone (an index-only scan): a tenth of
            # the table's size (docs/search.md).
            models.Index(
                fields=["price"],
                include=["category", "has_stock", "option_values"],
                condition=Q(is_active=True),
                name="catalog_product_facet_idx",
            ),
            # No index holds stock or updated_at, the columns that a sale
            # changes (has_stock changes only with the last unit), so that
            # PostgreSQL updates the row in place (a HOT update, with the
            # table's fillfactor leaving it room; migration 0007) instead of
            # writing a new entry into every index.
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def save(self, **kwargs: Any) -> None:
        normalize_text_fields(self)
        super().save(**kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:product-detail", args=[self.slug])

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def first_image(self) -> "ProductImage | None":
        """The product's main picture: its first image (prefetch `images`)."""
        return next(iter(self.images.all()), None)


class ProductOption(models.Model):
    """One option type of a product (Size, Colour) and its values, in order."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="option_types"
    )
    name = models.CharField(max_length=50, validators=[PrintableTextValidator()])
    values = ArrayField(
        models.CharField(max_length=50, validators=[PrintableTextValidator()]),
        help_text="The values a variant may take, in the order they are shown.",
    )
    position = models.PositiveIntegerField(default=0)

    objects = InvalidatingQuerySet["ProductOption"].as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "option type"
        constraints = [
            models.UniqueConstraint(
                fields=["product", "name"], name="catalog_option_name_per_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {', '.join(self.values)}"

    def save(self, **kwargs: Any) -> None:
        normalize_text_fields(self)
        super().save(**kwargs)
        cache.invalidate()

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        result = super().delete(using=using, keep_parents=keep_parents)
        cache.invalidate()
        return result


class ProductVariantQuerySet(InvalidatingQuerySet["ProductVariant"]):
    def active(self) -> Self:
        return self.filter(is_active=True)


class ProductVariant(LedgeredStockModel):
    """One purchasable version of a product, with its own SKU, price and stock.

    `options` maps each of the product's option types to a value
    ({"Size": "M"}); a product's default variant has none.
    """

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants"
    )
    sku = models.CharField(
        "SKU", max_length=64, unique=True, validators=[PrintableTextValidator()]
    )
    options = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(CENT)]
    )
    compare_at_price = models.DecimalField(
        "compare-at price",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text='The struck-through "was" price; above the price when set.',
    )
    # The price under the sale in force, None outside every sale: written by
    # catalog.sales at each sale's start and end and after each price change,
    # so that lists filter and order by the price shoppers pay.
    sale_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )
    is_active = models.BooleanField("active", default=True)
    weight = models.PositiveIntegerField(
        "weight (g)",
        null=True,
        blank=True,
        help_text="Grams a unit weighs packed, for the shipping methods' weight "
        "limits; empty: not known (counts as nothing).",
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductVariantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gt=Decimal("0")),
                name="catalog_variant_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="catalog_variant_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True)
                | Q(compare_at_price__gt=F("price")),
                name="catalog_variant_compare_at_above_price",
            ),
            # A combination of options names one variant of a product.
            models.UniqueConstraint(
                fields=["product", "options"], name=VARIANT_OPTIONS_CONSTRAINT
            ),
        ]
        indexes = [
            # A product's active variants in their order (product pages, the
            # "from" price), and their options: the facets count the option
            # values of a category's variants from this index alone.
            models.Index(
                fields=["product", "position", "id"],
                include=["options"],
                condition=Q(is_active=True),
                name="catalog_variant_active_idx",
            ),
            # The list's `option` filter: options @> {"Size": "M"}.
            GinIndex(
                fields=["options"],
                opclasses=["jsonb_path_ops"],
                name="catalog_variant_options_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {options_text(self.options, sorted(self.options))}".rstrip()

    def save(self, **kwargs: Any) -> None:
        normalize_text_fields(self)
        super().save(**kwargs)
        cache.invalidate()

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        result = super().delete(using=using, keep_parents=keep_parents)
        cache.invalidate()
        return result

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def current_price(self) -> Decimal:
        """The price paid now: the sale price in force, else the price."""
        return self.price if self.sale_price is None else self.sale_price

    @property
    def was_price(self) -> Decimal | None:
        """The struck-through price: the price before the sale in force, else
        the compare-at price staff set (None: none)."""
        return self.compare_at_price if self.sale_price is None else self.price


def from_price_variant(variants: Iterable[ProductVariant]) -> ProductVariant | None:
    """The active variant giving a product its price: the cheapest, first in order."""
    return min(
        (variant for variant in variants if variant.is_active),
        key=lambda variant: (variant.current_price, variant.position, variant.pk),
        default=None,
    )


def options_text(options: dict[str, str], names: Iterable[str]) -> str:
    """Options as order lines record them, "Size: M, Colour: Red", in `names` order.

    `names` are the product's option types in their order (a jsonb object
    keeps no order of its own); options not among them are left out.
    """
    return ", ".join(f"{name}: {options[name]}" for name in names if name in options)


class StockMovement(models.Model):
    """One change of a variant's stock: the inventory's append-only ledger.

    A variant's stock always equals the sum of its movements, and a
    product's the sum of its active variants' (`manage.py reconcile_stock`
    proves both).
    """

    class Reason(models.TextChoices):
        INITIAL = "initial", "Initial stock"
        ADJUSTMENT = "adjustment", "Adjustment (stock count)"
        DELIVERY = "delivery", "Delivery received"
        DAMAGE = "damage", "Damaged or lost"
        IMPORT = "import", "Import"
        SALE = "sale", "Sale"
        CANCELLATION = "cancellation", "Order cancelled"
        EXPIRY = "expiry", "Reservation expired"

    # Kept when a product is deleted, with its SKU, so the history stays.
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        related_name="stock_movements",
    )
    # Kept as the product is: null once the variant is deleted.
    variant = models.ForeignKey(
        ProductVariant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    # The variant's SKU.
    sku = models.CharField("SKU", max_length=64)
    quantity = models.IntegerField(help_text="Units added (positive) or taken.")
    stock_after = models.PositiveIntegerField(
        help_text="The variant's stock right after this movement."
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reference = models.CharField(
        max_length=100, blank=True, help_text="An order number, an import file…"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(quantity=0), name="catalog_stockmovement_quantity_not_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity:+d} {self.sku} ({self.get_reason_display()})"


class ProductImage(models.Model):
    """A picture of a product; the first by position is its main picture.

    Its renditions (smaller copies in WebP and JPEG) are made once, when the
    image is saved through catalog.images, and `renditions` names them.
    """

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images"
    )
    image = models.ImageField(
        upload_to="products/%Y/%m/",
        validators=[
            FileExtensionValidator(allowed_extensions=IMAGE_EXTENSIONS),
            validate_image_size,
        ],
    )
    alt_text = models.CharField(
        "alt text",
        max_length=250,
        blank=True,
        validators=[PrintableTextValidator()],
        help_text="What the picture shows, for those who cannot see it "
        "(the product's name when left empty).",
    )
    position = models.PositiveIntegerField(
        default=0,
        help_text="Pictures are shown by position; the first is the main one.",
    )
    # {rendition: {format: [1x, 2x]}}, each {"name", "width", "height"}.
    renditions = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InvalidatingQuerySet["ProductImage"].as_manager()

    class Meta:
        ordering = IMAGE_ORDERING
        indexes = [
            models.Index(
                fields=["product", "position", "id"],
                name="catalog_productimage_order_idx",
            )
        ]

    def __str__(self) -> str:
        return self.alt_text or str(self.image)

    def save(self, **kwargs: Any) -> None:
        normalize_text_fields(self)
        super().save(**kwargs)
        self._saved_image = self.image.name
        cache.invalidate()

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        result = super().delete(using=using, keep_parents=keep_parents)
        cache.invalidate()
        return result

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        **kwargs: Any,
    ) -> Self:
        image = super().from_db(db, field_names, values, **kwargs)
        image._saved_image = image.__dict__.get("image")
        return image

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # The stored image passed the checks when it was uploaded; checking it
        # again would ask the storage for its size on every edit.
        if not self._state.adding and self.image.name == self._saved_image:
            exclude = {*(exclude or ()), "image"}
        super().clean_fields(exclude=exclude)


class SearchWord(models.Model):
    """A word of some product's name: what a mistyped search word is matched to.

    Lower-cased and unstemmed, of three characters or more with a letter.

    Kept by the database's trigger on the products (docs/search.md): each
    word of a new or renamed product's name is added; `manage.py
    rebuild_search_index` drops the words no name holds any more.
    """

    word = models.CharField(max_length=200, primary_key=True)

    class Meta:
        indexes = [
            # GiST rather than GIN: PostgreSQL prices the similarity operator
            # as cheap and a GIN trigram scan as dear, so it read every word
            # instead (82 ms for 30,000 words, where the GiST index takes 2).
            GistIndex(
                fields=["word"],
                opclasses=["gist_trgm_ops"],
                name="catalog_searchword_trgm_idx",
            )
        ]

    def __str__(self) -> str:
        return self.word


class SaleQuerySet(models.QuerySet["Sale"]):
    def in_force(self, at: datetime) -> Self:
        """Sales switched on whose window holds `at` (start included, end not)."""
        return self.filter(is_active=True, starts_at__lte=at, ends_at__gt=at)


class Sale(models.Model):
    """A scheduled price cut on products, variants or whole categories.

    Where several sales cover a variant, the lowest resulting price wins
    (sales do not add up). A category's sale covers its subcategories.
    """

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"

    name = models.CharField(max_length=120, validators=[PrintableTextValidator()])
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text="Percent off (up to 99.99) or the amount off each unit's price.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="The sale's prices end at this moment.")
    is_active = models.BooleanField(
        "active", default=True, help_text="Switch off to end the sale early."
    )
    products = models.ManyToManyField(Product, blank=True, related_name="sales")
    variants = models.ManyToManyField(ProductVariant, blank=True, related_name="sales")
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="sales",
        help_text="Every product of these categories and their subcategories.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SaleQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="catalog_sale_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(value__gt=Decimal("0"))
                & (~Q(kind="percentage") | Q(value__lt=Decimal("100"))),
                name="catalog_sale_value_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["starts_at"], name="catalog_sale_starts_idx"),
            models.Index(fields=["ends_at"], name="catalog_sale_ends_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The sale must end after it starts."
        if self.value is not None:
            if self.value <= 0:
                errors["value"] = "The value must be above 0."
            elif self.kind == self.Kind.PERCENTAGE and self.value >= 100:
                errors["value"] = "A percentage must be below 100."
        if errors:
            raise ValidationError(errors)


class SalePriceState(models.Model):
    """When the variants' sale prices were last written, and when they go stale.

    One row. `next_change_at` is the first start or end of a sale after that
    write (None: no sale will start or end); a read at or after it writes
    the sale prices again first (catalog.services.ensure_sale_prices).
    """

    refreshed_at = models.DateTimeField()
    next_change_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"sale prices written {self.refreshed_at}"
