"""The catalog's writes: products, their variants, and the one stock service.

Every change of a variant's stock goes through this module, which writes an
append-only StockMovement in the same transaction as the change, so that a
variant's stock always equals the sum of its movements. A product's `price`
and `stock` are aggregates of its active variants (the lowest price, the
sum of the stock), kept here in the transaction of every variant change.

A stock change locks the variants' rows first, in id order, then their
products' rows, in id order, and checks the figures it then reads, so it
cannot go below zero however many checkouts race; the database's check
constraints refuse a negative figure from anywhere else. Every other write
locks in the same order (`_lock_products`): a write to a product locks all
its variants, which its sale prices may all change, before the product, so
that none waits for a variant while holding a product and none can
deadlock with a sale (catalog/tests/test_lock_order.py).

The catalog cache needs no call from here for products, variants and
categories: the catalog QuerySets' update() and the models' save()
invalidate it after commit (see catalog/cache.py). The stock changes and
`import_products`, written in raw statements and through the plain base
managers, invalidate it themselves, once per change or import.
"""

import dataclasses
import itertools
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, Unpack

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    F,
    Func,
    Min,
    OuterRef,
    StringAgg,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat
from django.db.models.lookups import Lookup
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog import cache, images, sales
from catalog.exceptions import (
    ImportRejected,
    InsufficientStock,
    LastVariant,
    RowError,
    Shortage,
)
from catalog.models import (
    STANDARD_TAX_CLASS,
    VARIANT_OPTIONS_CONSTRAINT,
    Category,
    LedgeredStockModel,
    Product,
    ProductOption,
    ProductVariant,
    Sale,
    SalePriceState,
    StockMovement,
    slug_max_length,
)
from catalog.product_csv import ProductRow
from core.text import normalize

logger = logging.getLogger(__name__)

Reason = StockMovement.Reason

ONE_VARIANT_ONLY = "This product has several variants: set the {field} on each variant."
SKU_TAKEN = "A variant with this SKU already exists."
OPTIONS_TAKEN = "Another variant of this product has these options."


class OptionType(TypedDict):
    """An option type as the services take it: its name and ordered values."""

    name: str
    values: list[str]


class NewVariant(TypedDict):
    """A variant to create, as create_product and create_variant take it."""

    sku: str
    price: Decimal
    options: NotRequired[dict[str, str]]
    compare_at_price: NotRequired[Decimal | None]
    stock: NotRequired[int]
    is_active: NotRequired[bool]
    weight: NotRequired[int | None]
    position: NotRequired[int]


class VariantChanges(TypedDict, total=False):
    """What update_variant may change: the variant's fields and its stock."""

    sku: str
    options: dict[str, str]
    price: Decimal
    compare_at_price: Decimal | None
    is_active: bool
    weight: int | None
    position: int
    stock: int


class ProductChanges(TypedDict, total=False):
    """What update_product may change: the product's fields and its stock.

    `price` and `stock` are the single variant's (refused on a product with
    several); `option_types` replaces the product's option types.
    """

    sku: str
    name: str
    slug: str
    description: str
    price: Decimal
    is_active: bool
    category: Category
    tax_class: str
    # The first picture: a new file replaces it, None removes it.
    image: "File[bytes] | str | None"
    stock: int
    option_types: list[OptionType]


# The fields set on the product row as given.
PRODUCT_FIELDS = ProductChanges.__optional_keys__ - {"stock", "price", "option_types"}
VARIANT_FIELDS = VariantChanges.__optional_keys__ - {"stock"}


# --- Products -----------------------------------------------------------------


@transaction.atomic
def create_product(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal | None = None,
    description: str = "",
    slug: str = "",
    stock: int = 0,
    is_active: bool = True,
    tax_class: str = STANDARD_TAX_CLASS,
    image: "File[bytes] | str | None" = None,
    option_types: Sequence[OptionType] = (),
    variants: Sequence[NewVariant] = (),
    user: User | None = None,
    reason: str = Reason.INITIAL,
    reference: str = "",
) -> Product:
    """Create a product with its variants; each initial stock is a movement.

    Without `variants`, the product gets one default variant (no options)
    carrying its sku, `price` and `stock`.
    """
    if not variants:
        if price is None:
            raise ValidationError({"price": "Give the price (or the variants)."})
        variants = [{"sku": sku, "price": price, "stock": stock}]
    product = Product(
        sku=sku,
        name=name,
        slug=slug,
        category=category,
        # Replaced by the variants' aggregates below.
        price=variants[0]["price"],
        description=description,
        is_active=is_active,
        tax_class=tax_class,
    )
    product.save()
    if image:
        images.add_image(product=product, image=image)
    types = _save_option_types(product, option_types)
    for position, variant in enumerate(variants):
        _add_variant(
            product,
            types,
            {"position": position, **variant},
            user=user,
            reason=reason,
            reference=reference,
        )
    refresh_aggregates([product.pk])
    product.refresh_from_db(fields=["price", "stock", "updated_at"])
    return product


@transaction.atomic
def update_product(
    *, product: Product, user: User | None = None, **changes: Unpack[ProductChanges]
) -> Product:
    """Change a product's fields.

    `price` and `stock` are written to the product's only variant (a new
    stock figure becomes an adjustment); on a product with several variants
    they are refused. A new `sku` moves the default variant's sku with it.
    A new `image` replaces the first picture, None removes it.
    """
    variant_changes: VariantChanges = {}
    if "price" in changes:
        variant_changes["price"] = changes.pop("price")
    if "stock" in changes:
        variant_changes["stock"] = changes.pop("stock")
    option_types = changes.pop("option_types", None)
    has_image, image = "image" in changes, changes.pop("image", None) or None
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"update_product() cannot change {', '.join(sorted(unknown))}")
    # Its variants' rows, then its own: the stock service's order.
    variants = list(
        ProductVariant.objects.select_for_update()
        .filter(product=product)
        .order_by("pk")
    )
    stored_sku = (
        Product.objects.select_for_update()
        .values_list("sku", flat=True)
        .get(pk=product.pk)
    )
    if "sku" in changes and len(variants) == 1 and variants[0].sku == stored_sku:
        # The default variant carries the product's own sku.
        variant_changes["sku"] = changes["sku"]
    if variant_changes.keys() & {"price", "stock"} and len(variants) != 1:
        field = "price" if "price" in variant_changes else "stock"
        raise ValidationError({field: ONE_VARIANT_ONLY.format(field=field)})
    for field, value in changes.items():
        setattr(product, field, value)
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    if has_image:
        images.replace_main_image(product=product, image=image)
    if "category" in changes:
        # Another category may be on sale.
        refresh_aggregates([product.pk])
    if option_types is not None:
        set_option_types(product=product, option_types=option_types)
    if variant_changes:
        update_variant(variant=variants[0], user=user, **variant_changes)
        product.refresh_from_db(fields=["price", "stock", "updated_at"])
    return product


@transaction.atomic
def set_products_active(*, products: models.QuerySet[Product], is_active: bool) -> int:
    """Activate or deactivate many products at once; return how many."""
    # In id order first: an UPDATE alone locks them in the order it meets them.
    ids = list(
        Product.objects.select_for_update()
        .filter(pk__in=products.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Product.objects.filter(pk__in=ids).update(
        is_active=is_active, updated_at=timezone.now()
    )


# --- Option types and variants --------------------------------------------------


@transaction.atomic
def set_option_types(
    *, product: Product, option_types: Sequence[OptionType]
) -> list[ProductOption]:
    """Replace the product's option types; every variant must still fit them.

    A default variant (no options) takes the first value of each type.
    """
    _lock_products([product.pk])
    ProductOption.objects.filter(product=product).delete()
    types = _save_option_types(product, option_types)
    for variant in ProductVariant.objects.filter(product=product):
        options = _options_under(types, sku=variant.sku, options=variant.options)
        if options != variant.options:
            variant.options = options
            _save_variant(variant, update_fields=["options", "updated_at"])
    return types


@transaction.atomic
def create_variant(
    *,
    product: Product,
    user: User | None = None,
    reason: str = Reason.INITIAL,
    reference: str = "",
    **variant: Unpack[NewVariant],
) -> ProductVariant:
    """Add a variant to a product; its initial stock is its first movement."""
    _lock_products([product.pk])
    types = list(ProductOption.objects.filter(product=product))
    created = _add_variant(
        product, types, variant, user=user, reason=reason, reference=reference
    )
    refresh_aggregates([product.pk])
    return created


@transaction.atomic
def update_variant(
    *,
    variant: ProductVariant,
    user: User | None = None,
    **changes: Unpack[VariantChanges],
) -> ProductVariant:
    """Change a variant's fields; a new `stock` figure becomes an adjustment."""
    stock = changes.pop("stock", None)
    unknown = set(changes) - VARIANT_FIELDS
    if unknown:
        raise TypeError(f"update_variant() cannot change {', '.join(sorted(unknown))}")
    _lock_products([variant.product_id])
    locked = ProductVariant.objects.select_related("product").get(pk=variant.pk)
    product = locked.product
    if "options" in changes:
        types = list(ProductOption.objects.filter(product=product))
        changes["options"] = _clean_options(changes["options"], types)
    for field, value in changes.items():
        setattr(locked, field, value)
    if changes:
        _save_variant(locked, update_fields=[*changes, "updated_at"])
    if stock is not None:
        set_stock(variant=locked, stock=stock, user=user)
    refresh_aggregates([product.pk])
    locked.refresh_from_db()
    return locked


@transaction.atomic
def delete_variant(*, variant: ProductVariant) -> None:
    """Delete a variant; a product's last one is refused (LastVariant).

    Its movements keep their sku and product; the order lines keep their
    snapshot.
    """
    _lock_products([variant.product_id])
    locked = ProductVariant.objects.select_related("product").get(pk=variant.pk)
    product = locked.product
    if not ProductVariant.objects.filter(product=product).exclude(pk=locked.pk):
        raise LastVariant(
            "A product needs at least one variant: this is its last. Deactivate "
            "or delete the product instead."
        )
    locked.delete()
    refresh_aggregates([product.pk])


@transaction.atomic
def set_variant_prices(
    *,
    variants: models.QuerySet[ProductVariant],
    price: Decimal | None = None,
    percent: Decimal | None = None,
) -> int:
    """Set many variants' price, or change it by a percentage; return how many.

    A price at or above a variant's compare-at price clears the latter
    (the "was" price must stay above the price).
    """
    if (price is None) == (percent is None):
        raise TypeError("Give either price or percent.")
    chosen = dict(variants.values_list("pk", "product_id"))
    _lock_products(chosen.values())
    # Read once locked: a percentage applies to the price as it is now.
    locked = list(ProductVariant.objects.filter(pk__in=chosen).order_by("pk"))
    for variant in locked:
        new = price if price is not None else variant.price * (1 + percent / 100)  # type: ignore[operator]  # percent is set when price is not
        variant.price = new.quantize(Decimal("0.01"))
        if variant.price < Decimal("0.01"):
            raise ValidationError(
                {"price": f"{variant.sku} would cost less than 0.01."}
            )
        if (
            variant.compare_at_price is not None
            and variant.compare_at_price <= variant.price
        ):
            variant.compare_at_price = None
    ProductVariant.objects.bulk_update(locked, ["price", "compare_at_price"])
    refresh_aggregates({variant.product_id for variant in locked})
    return len(locked)


def option_names(*, product_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each product's option type names, in their order (one query, none if none)."""
    ids = set(product_ids)
    names: defaultdict[int, list[str]] = defaultdict(list)
    if not ids:
        return names
    for product_id, name in ProductOption.objects.filter(
        product_id__in=ids
    ).values_list("product_id", "name"):
        names[product_id].append(name)
    return names


def _lock_products(product_ids: Iterable[int], *, batch_size: int = 1000) -> None:
    """Lock every variant of these products, then the products, each in id order.

    The stock service's order. All the variants, not only those a write
    changes: `refresh_aggregates` writes the sale prices of every variant
    of the products again (a sale may have started since they were last
    written), and must find them locked already. At most `batch_size` ids a
    statement.
    """
    ids = sorted(set(product_ids))
    _lock_variants_of(ids, batch_size=batch_size)
    for batch in itertools.batched(ids, batch_size):
        list(
            Product.objects.select_for_update()
            .filter(pk__in=batch)
            .order_by("pk")
            .values_list("pk")
        )


def _lock_variants_of(
    product_ids: Sequence[int], *, batch_size: int
) -> dict[int, list[int]]:
    """Lock every variant of these products in id order; return their ids by product."""
    variants = ProductVariant.objects.select_for_update().order_by("pk")
    batches: Iterable[models.QuerySet[ProductVariant]] = [
        variants.filter(product_id__in=product_ids)
    ]
    if len(product_ids) > batch_size:
        # Over several statements a product's variants do not follow its id
        # (one added later has a higher id than the next product's): all of
        # their ids are read, then locked in one order.
        variant_ids = sorted(
            pk
            for batch in itertools.batched(product_ids, batch_size)
            for pk in ProductVariant.objects.filter(product_id__in=batch).values_list(
                "pk", flat=True
            )
        )
        batches = (
            variants.filter(pk__in=batch)
            for batch in itertools.batched(variant_ids, batch_size)
        )
    variants_of: defaultdict[int, list[int]] = defaultdict(list)
    for locked in batches:
        for pk, product_id in locked.values_list("pk", "product_id"):
            variants_of[product_id].append(pk)
    return variants_of


def _save_option_types(
    product: Product, option_types: Sequence[OptionType]
) -> list[ProductOption]:
    types = _checked_option_types(option_types)
    for option in types:
        option.product = product
        option.save()
    return types


def _checked_option_types(option_types: Sequence[OptionType]) -> list[ProductOption]:
    """The option types as rows of no product yet, or ValidationError."""
    names: set[str] = set()
    types: list[ProductOption] = []
    for position, option_type in enumerate(option_types):
        name = normalize(option_type["name"]).strip()
        values = [normalize(value).strip() for value in option_type["values"]]
        if not name or name.casefold() in names:
            raise ValidationError(
                {"option_types": f"Option names must be given and distinct: {name!r}."}
            )
        if not values or "" in values or len(set(values)) != len(values):
            raise ValidationError(
                {"option_types": f"{name} needs distinct, non-empty values."}
            )
        names.add(name.casefold())
        option = ProductOption(name=name, values=values, position=position)
        option.full_clean(exclude=["product"])
        types.append(option)
    return types


def _clean_options(
    options: Mapping[str, str], types: Sequence[ProductOption]
) -> dict[str, str]:
    """The options, in the product's option order, or ValidationError on `options`."""
    if not isinstance(options, Mapping) or not all(
        isinstance(value, str) for value in options.values()
    ):
        raise ValidationError({"options": "Give the options as {name: value}."})
    given = {
        normalize(name).strip(): normalize(value).strip()
        for name, value in options.items()
    }
    expected = [option.name for option in types]
    if set(given) != set(expected):
        wanted = ", ".join(expected) or "none"
        raise ValidationError(
            {"options": f"Give exactly this product's options ({wanted})."}
        )
    for option in types:
        if given[option.name] not in option.values:
            raise ValidationError(
                {
                    "options": f"{option.name} must be one of: "
                    f"{', '.join(option.values)}."
                }
            )
    return {option.name: given[option.name] for option in types}


def _options_under(
    types: Sequence[ProductOption], *, sku: str, options: dict[str, str]
) -> dict[str, str]:
    """A stored variant's options under new option types, or ValidationError.

    A default variant (no options) takes the first of each type's values, so
    that a product can go from no options to some.
    """
    if not options and types:
        return {option.name: option.values[0] for option in types}
    try:
        return _clean_options(options, types)
    except ValidationError:
        raise ValidationError(
            {
                "option_types": f"Variant {sku} has the options {options}: change "
                "or delete it first."
            }
        ) from None


def _check_variant(variant: ProductVariant) -> None:
    """Check a variant's fields as a save would write them (ValidationError)."""
    # The fields' own validators (a printable sku, prices as decimals); the
    # options are checked against the product's types by _clean_options, and
    # the database checks the rest.
    variant.clean_fields(exclude=["product", "options"])
    _check_prices(variant)


def _check_prices(variant: ProductVariant) -> None:
    if variant.price is None or variant.price < Decimal("0.01"):
        raise ValidationError({"price": "The price must be at least 0.01."})
    if (
        variant.compare_at_price is not None
        and variant.compare_at_price <= variant.price
    ):
        raise ValidationError(
            {"compare_at_price": "The compare-at price must be above the price."}
        )


def _save_variant(variant: ProductVariant, **kwargs: Any) -> None:
    """Save a variant; a taken sku or combination of options is a ValidationError."""
    _check_variant(variant)
    try:
        with transaction.atomic():
            variant.save(**kwargs)
    except IntegrityError as error:
        constraint = getattr(
            getattr(error.__cause__, "diag", None), "constraint_name", ""
        )
        if constraint == VARIANT_OPTIONS_CONSTRAINT:
            raise ValidationError({"options": OPTIONS_TAKEN}) from None
        raise ValidationError({"sku": SKU_TAKEN}) from None


def _add_variant(
    product: Product,
    types: Sequence[ProductOption],
    data: NewVariant,
    *,
    user: User | None,
    reason: str,
    reference: str,
) -> ProductVariant:
    variant = _build_variant(types, data)
    variant.product = product
    _save_variant(variant)
    if variant.stock:
        StockMovement.objects.create(
            product=product,
            variant=variant,
            sku=variant.sku,
            quantity=variant.stock,
            stock_after=variant.stock,
            reason=reason,
            reference=reference,
            user=user,
        )
    return variant


def _build_variant(types: Sequence[ProductOption], data: NewVariant) -> ProductVariant:
    """A new variant of no product yet, its options checked (ValidationError)."""
    stock = data.get("stock", 0)
    if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0:
        raise ValidationError({"stock": "Stock cannot be negative."})
    variant = ProductVariant(
        sku=normalize(data["sku"]),
        options=_clean_options(data.get("options") or {}, types),
        price=data["price"],
        compare_at_price=data.get("compare_at_price"),
        stock=stock,
        is_active=data.get("is_active", True),
        weight=data.get("weight"),
        position=data.get("position", 0),
    )
    if not variant.sku.strip():
        raise ValidationError({"sku": "Give the variant's SKU."})
    return variant


def refresh_aggregates(product_ids: Iterable[int], *, reprice: bool = True) -> None:
    """Set each product's price and stock from its variants (rows locked).

    The price is the lowest price paid for an active variant, its sale price
    where it has one (the lowest of all when none is active, as the column
    needs one); the stock, the active variants' sum. With `reprice`, the
    variants' sale prices are written first, for prices that just changed.
    """
    ids = sorted(product_ids)
    if reprice:
        sales.write_sale_prices(at=timezone.now(), product_ids=ids)
    # Locked in id order, as the stock service locks them.
    list(
        Product.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk")
    )
    variants = ProductVariant.objects.filter(product=OuterRef("pk")).order_by()
    active = variants.filter(is_active=True)

    def lowest(of: models.QuerySet[ProductVariant]) -> Subquery:
        paid = Coalesce("sale_price", "price")
        return Subquery(of.values("product").annotate(low=Min(paid)).values("low"))

    aggregates = {
        "price": Coalesce(lowest(active), lowest(variants)),
        "stock": Coalesce(
            Subquery(
                active.values("product").annotate(units=Sum("stock")).values("units")
            ),
            0,
        ),
        "option_values": _option_pairs(),
        "updated_at": timezone.now(),
    }
    # The words the search finds a product by beside its own (docs/search.md):
    # its active variants' SKUs and option values. Written only where they
    # changed, so that a price or stock change rewrites no search vector.
    terms = Coalesce(
        Subquery(
            active.values("product")
            .annotate(
                terms=StringAgg(VARIANT_TERMS, Value(" "), order_by=["position", "pk"])
            )
            .values("terms")
        ),
        Value(""),
    )
    # The base manager: the variant writes that call this invalidate the
    # catalog cache themselves (an import, once at its end). Each row is
    # written once, its terms with its figures where they changed (a new
    # version of a row costs an entry in each of its indexes).
    products = Product._base_manager.filter(pk__in=ids).alias(terms=terms)
    products.filter(search_terms=F("terms")).update(**aggregates)
    products.exclude(search_terms=F("terms")).update(**aggregates, search_terms=terms)


def _option_pairs() -> RawSQL:
    """The `option_values` of the product row being written: its active
    variants' option pairs, each the JSON text of [name, value], distinct
    and sorted.

    Written with the row's other aggregates, so that a variant change
    writes one new version of its product's row, not two (a new version of
    a row costs an entry in each of its indexes).
    """
    connection = connections[router.db_for_write(Product)]
    quote = connection.ops.quote_name
    product, variant = Product._meta, ProductVariant._meta
    owner = quote(_column(variant.get_field("product")))
    options = quote(_column(variant.get_field("options")))
    active = quote(_column(variant.get_field("is_active")))
    # Accepted bandit B608/B611: table and column names from the models'
    # metadata only; the UPDATE names the product row by its table.
    return RawSQL(  # nosec B611
        "ARRAY(SELECT DISTINCT jsonb_build_array(o.key, o.value)::text "  # nosec B608
        f"FROM {quote(variant.db_table)} AS v "
        f"CROSS JOIN LATERAL jsonb_each_text(v.{options}) AS o "
        f"WHERE v.{owner} = {quote(product.db_table)}.{quote(_column(product.pk))} "
        f"AND v.{active} ORDER BY 1)",
        (),
        output_field=ArrayField(TextField()),
    )


# A variant's words for the search: its SKU and its option values (not their
# names, which every variant of the product shares).
VARIANT_TERMS = Concat(
    "sku",
    Value(" "),
    Cast(
        Func(
            "options",
            Value("$.*"),
            function="jsonb_path_query_array",
            output_field=models.JSONField(),
        ),
        models.TextField(),
    ),
    output_field=models.TextField(),
)


# --- Sales --------------------------------------------------------------------


def ensure_sale_prices(*, now: datetime | None = None) -> datetime | None:
    """Bring the sale prices up to date; return when they next go stale.

    Every read that shows or charges a price calls this first. It costs one
    primary-key read until a sale starts or ends; the first call at or after
    that moment writes the sale prices again (catalog.sales) and the "from"
    prices, and empties the catalog cache. None: no sale is scheduled.
    """
    now = now or timezone.now()
    state = SalePriceState.objects.filter(pk=1).values_list("next_change_at").first()
    if state is not None and (state[0] is None or now < state[0]):
        return state[0]
    # Due, or no row yet (a new or flushed database).
    return _write_sale_prices(now=now, forced=False)


def reprice_sales(*, now: datetime | None = None) -> datetime | None:
    """Write every sale price now: after a sale was created, changed or deleted."""
    return _write_sale_prices(now=now or timezone.now(), forced=True)


@transaction.atomic
def save_sale(
    *,
    sale: Sale,
    products: Iterable[Product] | None = None,
    variants: Iterable[ProductVariant] | None = None,
    categories: Iterable[Category] | None = None,
) -> Sale:
    """Create or change a sale and what it covers; its prices apply at once."""
    sale.full_clean(exclude=["products", "variants", "categories"])
    sale.save()
    if products is not None:
        sale.products.set(products)
    if variants is not None:
        sale.variants.set(variants)
    if categories is not None:
        sale.categories.set(categories)
    reprice_sales()
    return sale


@transaction.atomic
def delete_sale(*, sale: Sale) -> None:
    sale.delete()
    reprice_sales()


def _write_sale_prices(*, now: datetime, forced: bool) -> datetime | None:
    with transaction.atomic():
        state, created = SalePriceState.objects.select_for_update().get_or_create(
            pk=1, defaults={"refreshed_at": now}
        )
        current = state.next_change_at is None or now < state.next_change_at
        if not (forced or created) and current and state.refreshed_at <= now:
            # Another process wrote them while this one waited for the lock.
            return state.next_change_at
        changed = sales.write_sale_prices(at=now)
        if changed:
            refresh_aggregates(changed, reprice=False)
        state.refreshed_at = now
        state.next_change_at = sales.next_change_after(now)
        state.save()
        cache.invalidate()
    return state.next_change_at


# --- Stock --------------------------------------------------------------------


@transaction.atomic
def adjust_stock(
    *,
    variant: ProductVariant,
    quantity: int,
    reason: str = Reason.ADJUSTMENT,
    reference: str = "",
    user: User | None = None,
) -> ProductVariant:
    """Add (positive) or remove (negative) units; never below zero."""
    if not isinstance(quantity, int) or quantity == 0:
        raise ValidationError({"quantity": "Adjust stock by a non-zero whole number."})
    _, shortages = _change(
        changes={variant.pk: quantity},
        reason=reason,
        reference=reference,
        user=user,
        require_active=False,
    )
    if shortages:
        raise InsufficientStock(shortages)
    variant.refresh_from_db(fields=["stock", "updated_at"])
    return variant


@transaction.atomic
def set_stock(
    *,
    variant: ProductVariant,
    stock: int,
    reason: str = Reason.ADJUSTMENT,
    reference: str = "",
    user: User | None = None,
) -> ProductVariant:
    """Set the stock on hand to a counted figure, recording the difference."""
    _check_stock_figure(stock)
    # Locked, so that no sale lands between reading the figure and writing
    # the difference.
    current = ProductVariant.objects.select_for_update().values_list("stock", flat=True)
    difference = stock - current.get(pk=variant.pk)
    if difference:
        _change(
            changes={variant.pk: difference},
            reason=reason,
            reference=reference,
            user=user,
            require_active=False,
        )
    variant.refresh_from_db(fields=["stock", "updated_at"])
    return variant


def _check_stock_figure(stock: object) -> None:
    """Refuse a counted stock figure that is not a whole number, 0 or more."""
    if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0:
        raise ValidationError({"stock": "Stock must be a whole number, 0 or more."})


def take_stock(
    *,
    lines: Iterable[tuple[int, int]],
    reason: str = Reason.SALE,
    reference: str = "",
    user: User | None = None,
    require_active: bool = True,
) -> list[StockMovement]:
    """Take units of several variants at once: all lines, or none.

    `lines` are (variant_id, quantity) pairs; a variant named twice is taken
    once for the sum. Raises InsufficientStock listing every line that the
    stock on hand cannot cover (and, with `require_active`, every variant
    not for sale: inactive, or of an inactive product), and then takes
    nothing. Returns the movements in variant id order, each with its
    `variant` and `product` as the change left them: locked until the
    transaction ends, so their prices and names are those of the sale.
    """
    totals = _positive_totals(lines)
    movements, shortages = _change(
        changes={pk: -quantity for pk, quantity in totals.items()},
        reason=reason,
        reference=reference,
        user=user,
        require_active=require_active,
    )
    if shortages:
        raise InsufficientStock(shortages)
    return movements


def return_stock(
    *,
    lines: Iterable[tuple[int, int]],
    reason: str = Reason.CANCELLATION,
    reference: str = "",
    user: User | None = None,
) -> list[StockMovement]:
    """Put units of variants back (a cancelled order, an expired reservation).

    Variants deleted since are skipped: there is no stock left to restore.
    """
    totals = _positive_totals(lines)
    movements, _ = _change(
        changes=totals,
        reason=reason,
        reference=reference,
        user=user,
        require_active=False,
    )
    return movements


def _positive_totals(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    totals: defaultdict[int, int] = defaultdict(int)
    for variant_id, quantity in lines:
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValidationError({"quantity": "Quantities must be whole numbers ≥ 1."})
        totals[variant_id] += quantity
    return dict(totals)


# No savepoint: nothing is written until every change is known to fit, and a
# shortage is returned for the caller to raise outside this block. A checkout
# calling this inside its own transaction saves a SAVEPOINT and a RELEASE, and
# a caller that catches the shortage keeps a usable transaction.
@transaction.atomic(savepoint=False)
def _change(
    *,
    changes: dict[int, int],
    reason: str,
    reference: str,
    user: User | None,
    require_active: bool,
) -> tuple[list[StockMovement], list[Shortage]]:
    """Apply signed stock changes {variant_id: units}, all or none.

    Returns (movements, []) once applied, or ([], shortages) with nothing
    changed when a removal finds too few units or, with `require_active`, a
    variant that is not for sale or missing.
    """
    # Variant rows, then product rows, each in id order: two transactions
    # that share rows wait for each other instead of deadlocking, and the
    # figures read are the current ones until this transaction ends.
    rows = (
        ProductVariant.objects.select_for_update()
        .filter(pk__in=changes)
        .order_by("pk")
        .values_list("pk", "product_id", "sku", "stock", "is_active")
    )
    locked = {
        pk: (product_id, sku, stock, active)
        for pk, product_id, sku, stock, active in rows
    }
    product_active = dict(
        Product.objects.select_for_update()
        .filter(pk__in={row[0] for row in locked.values()})
        .order_by("pk")
        .values_list("pk", "is_active")
    )
    shortages: list[Shortage] = []
    for variant_id in sorted(changes):
        quantity = changes[variant_id]
        if quantity >= 0:
            if variant_id not in locked:
                logger.warning(
                    "Stock of variant %s not restored (%s): it no longer exists",
                    variant_id,
                    reason,
                )
            continue
        product_id, sku, stock, is_active = locked.get(variant_id, (0, "", 0, False))
        for_sale = is_active and product_active.get(product_id, False)
        if stock < -quantity or (require_active and not for_sale):
            # A variant not for sale has no units for sale.
            available = stock if for_sale else 0
            shortages.append(
                Shortage(
                    product_id,
                    sku,
                    -quantity,
                    available,
                    is_active=for_sale,
                    variant_id=variant_id,
                )
            )
    if shortages:
        return [], shortages
    variants = _apply_changes(
        ProductVariant,
        CHANGED_VARIANT_FIELDS,
        {pk: changes[pk] for pk in sorted(locked)},
    )
    # A product's stock counts its active variants only.
    product_units = dict.fromkeys(sorted(product_active), 0)
    for variant in variants:
        if variant.is_active:
            product_units[variant.product_id] += changes[variant.pk]
    products = {
        product.pk: product
        for product in _apply_changes(Product, CHANGED_PRODUCT_FIELDS, product_units)
    }
    cache.invalidate()
    movements = StockMovement.objects.bulk_create(
        StockMovement(
            product=products[variant.product_id],
            variant=variant,
            sku=variant.sku,
            quantity=changes[variant.pk],
            stock_after=variant.stock,
            reason=reason,
            reference=reference,
            user=user,
        )
        for variant in variants
    )
    for variant in variants:
        variant.product = products[variant.product_id]
    return movements, []


# What a stock change reads back of each row (the others stay deferred):
# what movements and order lines record, and what a checkout prices by.
CHANGED_PRODUCT_FIELDS = (
    "id",
    "sku",
    "name",
    "stock",
    "is_active",
    "category_id",
    "tax_class",
    "updated_at",
)
CHANGED_VARIANT_FIELDS = (
    "id",
    "product_id",
    "sku",
    "options",
    "price",
    "sale_price",
    "stock",
    "is_active",
    "weight",
    "updated_at",
)


def _apply_changes[M: LedgeredStockModel](
    model: type[M], fields: Sequence[str], changes: dict[int, int]
) -> list[M]:
    """Add {id: units} to the stock of locked rows; return them after.

    One `UPDATE ... FROM (VALUES ...) RETURNING` for every row, where an
    update() per row costs a statement each and a read after.
    """
    if not changes:
        return []
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    by_attname = {field.attname: field for field in meta.concrete_fields}
    column = {name: quote(_column(by_attname[name])) for name in fields}
    returning = ", ".join(f"{table}.{column[name]}" for name in fields)
    # Accepted bandit B608: only column and table names from the model's own
    # metadata are formatted in; every value is bound.
    statement = (
        f"UPDATE {table} SET {column['stock']} = {table}.{column['stock']} + "  # nosec B608
        f"v.units, {column['updated_at']} = %s FROM (VALUES "
        + ", ".join(["(%s, %s)"] * len(changes))
        + f") AS v (id, units) WHERE {table}.{column['id']} = v.id "
        f"RETURNING {returning}"
    )
    params: list[object] = [timezone.now()]
    for pk, units in changes.items():
        params += [pk, units]
    rows = model._base_manager.raw(statement, params, using=connection.alias)
    return sorted(rows, key=lambda row: row.pk)


# --- Imports ------------------------------------------------------------------

# The fields an import compares and writes, by their attribute names.
IMPORT_FIELDS = ("name", "slug", "description", "price", "is_active", "category_id")

# A product's field values by attribute name, as QuerySet.values() gives them.
type FieldValues = dict[str, Any]
# A row to write: the row, the product's values before (None for a new
# product), its values after, and the names of those that change.
type PlannedRow = tuple[ProductRow, FieldValues | None, FieldValues, tuple[str, ...]]


@dataclasses.dataclass
class ImportResult:
    """What an import changed (or, in a dry run, would change)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stock_movements: int = 0
    categories_created: list[str] = dataclasses.field(default_factory=list)
    # (line, sku, "created" or "updated", the fields that changed)
    changes: list[tuple[int, str, str, tuple[str, ...]]] = dataclasses.field(
        default_factory=list
    )


@transaction.atomic
def import_products(
    *,
    rows: Iterable[ProductRow],
    create_categories: bool = False,
    dry_run: bool = False,
    reference: str = "",
    user: User | None = None,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Create or update products from import rows, matched by SKU, all or nothing.

    `rows` (catalog.product_csv.ProductRow) are first checked against the
    catalog: a missing category (made at the top level with
    `create_categories`), a taken slug or a variant that the variant
    services would refuse rejects the import (ImportRejected, naming every
    bad row) before anything is written. A stock figure becomes an `import`
    movement of the difference, the products locked in id order until
    commit, so the ledger adds up whatever sells meanwhile. Products are
    written `batch_size` at a time, `progress(done, total)` after each
    batch; with `dry_run`, nothing is written.
    """
    rows = list(rows)
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more.")
    _without_jit(Product)
    # A file of default variants only (what export_products writes of a
    # catalog without options) is imported as products, a row each.
    if not all(_default_variant_row(row) for row in rows):
        return _import_variants(
            rows=rows,
            create_categories=create_categories,
            dry_run=dry_run,
            reference=reference,
            user=user,
            batch_size=batch_size,
            progress=progress,
        )
    current = _products_by_sku([row.sku for row in rows], lock=not dry_run)
    errors: list[RowError] = []
    category_ids, new_categories = _import_categories(rows, create_categories, errors)
    slugs = _import_slugs(rows, current, errors)
    if errors:
        raise ImportRejected(errors)

    result = ImportResult(categories_created=new_categories)
    plan: list[PlannedRow] = []
    for row in rows:
        target: FieldValues = {
            "name": row.name,
            "slug": slugs[row.line],
            "price": row.price,
            "category_id": category_ids[row.category],
        }
        if row.description is not None:
            target["description"] = row.description
        if row.is_active is not None:
            target["is_active"] = row.is_active
        if row.stock is not None:
            target["stock"] = row.stock
        before = current.get(row.sku)
        if before is None:
            changed = tuple(target)
            result.created += 1
            result.changes.append(
                (row.line, row.sku, "created", _column_names(changed))
            )
            if target.get("stock"):
                result.stock_movements += 1
        else:
            changed = tuple(name for name in target if target[name] != before[name])
            if not changed:
                result.unchanged += 1
                continue
            if before["variant"] is None and {"price", "stock"} & set(changed):
                errors.append(
                    RowError(
                        row.line,
                        f"product {row.sku} has several variants: its price and "
                        "stock are theirs",
                    )
                )
                continue
            result.updated += 1
            result.changes.append(
                (row.line, row.sku, "updated", _column_names(changed))
            )
            if "stock" in changed:
                result.stock_movements += 1
        plan.append((row, before, target, changed))
    if errors:
        raise ImportRejected(errors)
    if dry_run:
        return result

    created = _create_import_categories(new_categories)
    for _, _, target, _ in plan:
        target["category_id"] = created.get(
            target["category_id"], target["category_id"]
        )
    _write_in_batches(plan, _write_import_batch, reference, user, batch_size, progress)
    if plan or new_categories:
        cache.invalidate()
    return result


def _without_jit(model: type[models.Model]) -> None:
    """Switch PostgreSQL's JIT compilation off until the transaction ends.

    An import's statements each take milliseconds, but on tables that grew
    since their statistics were taken (a first import) PostgreSQL's cost
    estimates pass its JIT threshold, and it compiled each for some 300 ms,
    most of a 100,000-product import's time (bench/README.md).
    """
    with connections[router.db_for_write(model)].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")


def _import_categories(
    rows: Iterable[ProductRow], create_categories: bool, errors: list[RowError]
) -> tuple[dict[str, int | str], list[str]]:
    """The categories' ids by slug and the slugs to create; errors for unknown ones.

    A category to create has a stand-in id, unequal to any existing one,
    until the rows are checked and _create_import_categories creates it;
    without `create_categories`, each row naming an unknown category is an
    error.
    """
    category_ids: dict[str, int | str] = dict(
        Category.objects.values_list("slug", "pk")
    )
    new_categories: list[str] = []
    for row in rows:
        if row.category in category_ids:
            continue
        if create_categories:
            new_categories.append(row.category)
            category_ids[row.category] = _stand_in(row.category)
        else:
            errors.append(
                RowError(
                    row.line,
                    f"unknown category {row.category!r} (use --create-categories "
                    "to create it)",
                )
            )
    return category_ids, new_categories


def _create_import_categories(slugs: Sequence[str]) -> dict[int | str, int]:
    """Create the categories at the top level, named after their slugs.

    Returns each one's id by its stand-in (_import_categories).
    """
    created = Category._base_manager.bulk_create(
        Category(name=slug.replace("-", " ").capitalize(), slug=slug) for slug in slugs
    )
    return {_stand_in(category.slug): category.pk for category in created}


def _stand_in(slug: str) -> str:
    return f"new:{slug}"


# Option types by their names and values, in order.
type OptionTypesKey = tuple[tuple[str, tuple[str, ...]], ...]

# The variant fields an import compares and writes, by their attribute names.
VARIANT_IMPORT_FIELDS = ("price", "options", "compare_at_price", "is_active", "stock")
# What it writes of a new variant.
NEW_VARIANT_FIELDS = ("sku", "position", *VARIANT_IMPORT_FIELDS)


@dataclasses.dataclass
class _ProductPlan:
    """What a file with variant columns writes of one product."""

    # The product's id (a new one's once written).
    pk: int | None
    # A new product's values, by attribute name.
    new: FieldValues | None = None
    # A stored product's values after, when a field of its own changes.
    values: FieldValues | None = None
    changed_fields: tuple[str, ...] = ()
    # The option types replacing the product's (None: they stay): their
    # name, values and position.
    option_types: list[FieldValues] | None = None
    # Stored variants' values after, in the order the services would write
    # them, and the fields that change.
    variant_updates: dict[int, FieldValues] = dataclasses.field(default_factory=dict)
    variant_fields: set[str] = dataclasses.field(default_factory=set)
    # Whether a variant takes options another held before: then its
    # updates are written one at a time, in order (_write_variant_batch).
    in_order: bool = False
    # New variants' values, by attribute name ("pk" once written).
    new_variants: list[FieldValues] = dataclasses.field(default_factory=list)
    # A stock movement each: the variant's values, units added, stock after.
    movements: list[tuple[FieldValues, int, int]] = dataclasses.field(
        default_factory=list
    )


def _import_variants(
    *,
    rows: Sequence[ProductRow],
    create_categories: bool,
    dry_run: bool,
    reference: str,
    user: User | None,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
) -> ImportResult:
    """Import a file with variant columns: each product's rows are its variants.

    Each product's rows are checked, in file order, by the functions that
    the product and variant services check with, against the catalog as
    locked and as the services would leave it row after row; a refusal names
    its row. Then, with no refusal, the products are written in batches,
    a few statements each (_write_variant_batch).
    """
    by_product: dict[str, list[ProductRow]] = {}
    for row in rows:
        by_product.setdefault(row.sku, []).append(row)
    firsts = [product_rows[0] for product_rows in by_product.values()]
    current = _products_by_sku(list(by_product), lock=not dry_run)
    errors: list[RowError] = []
    category_ids, new_categories = _import_categories(firsts, create_categories, errors)
    slugs = _import_slugs(firsts, current, errors)
    stored_types = _option_types_of([values["pk"] for values in current.values()])
    # The variant SKUs that name no variant of their own product: another
    # product's variant may hold them.
    unmatched: list[str] = []
    for sku, product_rows in by_product.items():
        own = (
            {variant["sku"] for variant in current[sku]["variants"]}
            if sku in current
            else set()
        )
        unmatched += [
            key for row in product_rows if (key := _variant_key(row)) not in own
        ]
    taken = _variant_skus_taken(unmatched)

    result = ImportResult(categories_created=new_categories)
    checked_types: dict[OptionTypesKey, list[ProductOption] | ValidationError] = {}
    plans: list[_ProductPlan] = []
    for sku, product_rows in by_product.items():
        before = current.get(sku)
        first = product_rows[0]
        plan = _plan_product(
            product_rows,
            before,
            stored_types=stored_types[before["pk"]] if before else [],
            # Empty for a row refused already.
            category_id=category_ids.get(first.category, ""),
            slug=slugs.get(first.line, ""),
            taken=taken,
            checked_types=checked_types,
            errors=errors,
            result=result,
        )
        if plan is not None:
            plans.append(plan)
    if errors:
        raise ImportRejected(errors)
    if dry_run:
        return result

    created = _create_import_categories(new_categories)
    for plan in plans:
        for values in (plan.new, plan.values):
            if values is not None:
                values["category_id"] = created.get(
                    values["category_id"], values["category_id"]
                )
    _write_in_batches(
        plans, _write_variant_batch, reference, user, batch_size, progress
    )
    if plans or new_categories:
        cache.invalidate()
    return result


def _plan_product(
    rows: Sequence[ProductRow],
    before: FieldValues | None,
    *,
    stored_types: Sequence[ProductOption],
    category_id: int | str,
    slug: str,
    taken: set[str],
    checked_types: dict[OptionTypesKey, list[ProductOption] | ValidationError],
    errors: list[RowError],
    result: ImportResult,
) -> _ProductPlan | None:
    """What one product's rows write (None: nothing), as the services would.

    As create_product, or update_product then create_variant, update_variant
    and set_stock row after row; each refusal is added to `errors` on its
    row, and the changes counted into `result`.
    """
    first = rows[0]
    # The option types: the product's, then the names and values the rows add.
    merged = {option.name: list(option.values) for option in stored_types}
    for row in rows:
        for name, value in (row.options or {}).items():
            values = merged.setdefault(name, [])
            if value not in values:
                values.append(value)
    asked: list[OptionType] = [
        {"name": name, "values": values} for name, values in merged.items()
    ]
    types = list(stored_types)
    replaced = [(option.name, list(option.values)) for option in types] != [
        (option["name"], option["values"]) for option in asked
    ]
    if replaced:
        # Checked once for all the products that ask for the same types.
        types_key = tuple((name, tuple(values)) for name, values in merged.items())
        if types_key not in checked_types:
            try:
                checked_types[types_key] = _checked_option_types(asked)
            except ValidationError as error:
                checked_types[types_key] = error
        checked = checked_types[types_key]
        if isinstance(checked, ValidationError):
            errors.append(_row_error(first.line, checked))
            return None
        types = checked

    if before is None:
        plan = _ProductPlan(
            pk=None,
            new={
                "sku": first.sku,
                "name": first.name,
                "slug": slug,
                "category_id": category_id,
                "description": first.description or "",
                "is_active": True if first.is_active is None else first.is_active,
                # Replaced by the variants' aggregates once they are written.
                "price": first.price,
            },
        )
        changed: list[str] = []
    else:
        plan = _ProductPlan(pk=before["pk"])
        target: FieldValues = {"name": first.name, "category_id": category_id}
        target["slug"] = slug
        if first.description is not None:
            target["description"] = first.description
        if first.is_active is not None:
            target["is_active"] = first.is_active
        plan.changed_fields = tuple(
            name for name, value in target.items() if value != before[name]
        )
        if plan.changed_fields:
            plan.values = {**before, **target}
        changed = list(_column_names(plan.changed_fields))
    if replaced:
        plan.option_types = [
            {"name": option.name, "values": option.values, "position": option.position}
            for option in types
        ]
        if before is not None:
            changed.append("option_types")

    stored = (
        {variant["sku"]: variant for variant in before["variants"]} if before else {}
    )
    # Each variant's values as the services leave them, row after row, and
    # which variant holds each combination of options (unique per product).
    state = dict(stored)
    held = {_options_key(variant["options"]): sku for sku, variant in stored.items()}

    def write(sku: str, changes: FieldValues) -> None:
        values = {**state[sku], **changes}
        if "options" in changes:
            holder = held.get(_options_key(changes["options"]))
            if holder not in (None, sku):
                raise ValidationError({"options": OPTIONS_TAKEN})
            del held[_options_key(state[sku]["options"])]
            held[_options_key(changes["options"])] = sku
        state[sku] = values
        # Last in the order of writes.
        plan.variant_updates.pop(values["pk"], None)
        plan.variant_updates[values["pk"]] = values
        plan.variant_fields.update(changes)

    rows_by_key = {_variant_key(row): row for row in rows}
    if replaced:
        # As set_option_types: every variant must fit the new types, but one
        # whose row gives its options is checked by that row instead.
        for sku, variant in stored.items():
            own_row = rows_by_key.get(sku)
            if own_row is not None and own_row.options is not None:
                continue
            try:
                options = _options_under(types, sku=sku, options=variant["options"])
                if options != variant["options"]:
                    write(sku, {"options": options})
            except ValidationError as error:
                errors.append(
                    _row_error(first.line if own_row is None else own_row.line, error)
                )
                return None

    for position, row in enumerate(rows):
        key = _variant_key(row)
        data = _new_variant(row)
        try:
            if key not in state:
                if before is None:
                    # As create_product: the variants in the order given.
                    data["position"] = position
                variant = _build_variant(types, data)
                _check_variant(variant)
                if key in taken:
                    raise ValidationError({"sku": SKU_TAKEN})
                combination = _options_key(variant.options)
                if combination in held:
                    raise ValidationError({"options": OPTIONS_TAKEN})
                held[combination] = key
                created = {name: getattr(variant, name) for name in NEW_VARIANT_FIELDS}
                plan.new_variants.append(created)
                if variant.stock:
                    plan.movements.append((created, variant.stock, variant.stock))
                changed.append(f"variant {variant.sku}")
                continue
            values = state[key]
            changes: FieldValues = {
                field: data[field]
                for field in ("price", "options", "compare_at_price", "is_active")
                if field in data and values[field] != data[field]
            }
            if changes:
                if "options" in changes:
                    changes["options"] = _clean_options(changes["options"], types)
                after = {name: values[name] for name in ("sku", *VARIANT_IMPORT_FIELDS)}
                _check_variant(ProductVariant(**{**after, **changes}))
                write(key, changes)
                changed.append(f"variant {key}")
            if row.stock is not None and row.stock != values["stock"]:
                _check_stock_figure(row.stock)
                plan.movements.append((values, row.stock - values["stock"], row.stock))
                write(key, {"stock": row.stock})
                changed.append(f"stock of {key}")
        except ValidationError as error:
            errors.append(_row_error(row.line, error))

    # Options another variant held before the import: writing every update
    # in one statement could meet the unique (product, options) pair half
    # way, where the services' order passes it.
    holders = {
        _options_key(variant["options"]): variant["pk"] for variant in stored.values()
    }
    plan.in_order = any(
        holders.get(_options_key(values["options"]), pk) != pk
        for pk, values in plan.variant_updates.items()
    )
    result.stock_movements += len(plan.movements)
    if before is None:
        result.created += 1
        result.changes.append((first.line, first.sku, "created", ("variants",)))
        return plan
    if not changed:
        result.unchanged += 1
        return None
    result.updated += 1
    result.changes.append((first.line, first.sku, "updated", tuple(changed)))
    return plan


def _write_in_batches[T](
    planned: Sequence[T],
    write_batch: Callable[[Sequence[T], str, User | None], None],
    reference: str,
    user: User | None,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Write an import's checked rows `batch_size` at a time, saying how far."""
    for start in range(0, len(planned), batch_size):
        write_batch(planned[start : start + batch_size], reference, user)
        if progress is not None:
            progress(min(start + batch_size, len(planned)), len(planned))


def _write_variant_batch(
    plans: Sequence[_ProductPlan], reference: str, user: User | None
) -> None:
    """Write one batch of a variant import: a few statements whatever its size.

    In the services' order: the products, their option types, the stored
    variants' changes, the new variants, the stock movements, then the
    products' aggregates (with their variants' sale prices). Nothing here
    schedules a cache invalidation; import_products invalidates once.
    """
    now = timezone.now()
    created = [plan for plan in plans if plan.new is not None]
    ids = _insert_rows(Product, [plan.new for plan in created if plan.new])
    for plan, pk in zip(created, ids, strict=True):
        plan.pk = pk
    updated = [plan.values for plan in plans if plan.values is not None]
    if updated:
        fields = {name for plan in plans for name in plan.changed_fields}
        _update_rows(
            Product,
            [{**values, "updated_at": now} for values in updated],
            [*sorted(fields), "updated_at"],
        )
    replaced = [
        plan.pk for plan in plans if plan.option_types is not None and plan.new is None
    ]
    if replaced:
        ProductOption._base_manager.filter(_AnyOf(F("product_id"), replaced)).delete()
    _insert_rows(
        ProductOption,
        [
            {**option, "product_id": plan.pk}
            for plan in plans
            for option in plan.option_types or ()
        ],
    )
    together: list[FieldValues] = []
    fields_together: set[str] = set()
    for plan in plans:
        changes = [
            {**values, "updated_at": now} for values in plan.variant_updates.values()
        ]
        if plan.in_order:
            for values in changes:
                _update_rows(
                    ProductVariant,
                    [values],
                    [*sorted(plan.variant_fields), "updated_at"],
                )
        else:
            together += changes
            fields_together |= plan.variant_fields
    if together:
        _update_rows(ProductVariant, together, [*sorted(fields_together), "updated_at"])
    new_variants = [(plan, variant) for plan in plans for variant in plan.new_variants]
    ids = _insert_rows(
        ProductVariant,
        [{**variant, "product_id": plan.pk} for plan, variant in new_variants],
    )
    for (_, variant), pk in zip(new_variants, ids, strict=True):
        variant["pk"] = pk
    _insert_rows(
        StockMovement,
        [
            {
                "product_id": plan.pk,
                "variant_id": variant["pk"],
                "sku": variant["sku"],
                "quantity": quantity,
                "stock_after": stock_after,
                "reason": Reason.IMPORT,
                "reference": reference,
                "user_id": user and user.pk,
            }
            for plan in plans
            for variant, quantity, stock_after in plan.movements
        ],
    )
    refresh_aggregates(plan.pk for plan in plans if plan.pk is not None)


def _row_error(line: int, error: ValidationError) -> RowError:
    return RowError(line, "; ".join(error.messages))


def _variant_key(row: ProductRow) -> str:
    """The SKU of the row's variant (its product's default variant: the product's)."""
    return row.variant_sku or row.sku


def _options_key(options: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Options as the database compares them: whatever their order."""
    return tuple(sorted(options.items()))


def _option_types_of(
    product_ids: Collection[int],
) -> defaultdict[int, list[ProductOption]]:
    """Each product's option types, in their order."""
    types: defaultdict[int, list[ProductOption]] = defaultdict(list)
    options = ProductOption.objects.filter(_AnyOf(F("product_id"), product_ids))
    for option in options.order_by("product_id", "position", "pk"):
        types[option.product_id].append(option)
    return types


def _variant_skus_taken(skus: Collection[str]) -> set[str]:
    """Those of the SKUs that a variant holds."""
    variants = ProductVariant.objects.filter(_AnyOf(F("sku"), skus))
    return set(variants.values_list("sku", flat=True))


def _default_variant_row(row: ProductRow) -> bool:
    """Whether the row names nothing but a product's default variant."""
    return (
        row.variant_sku in (None, row.sku)
        and not row.options
        and row.compare_at_price is None
        and row.variant_is_active is not False
    )


def _new_variant(row: ProductRow) -> NewVariant:
    """The row's variant; an empty optional cell is left out (kept as it is)."""
    variant: NewVariant = {"sku": _variant_key(row), "price": row.price}
    if row.options is not None:
        variant["options"] = row.options
    if row.compare_at_price is not None:
        variant["compare_at_price"] = row.compare_at_price
    if row.stock is not None:
        variant["stock"] = row.stock
    if row.variant_is_active is not None:
        variant["is_active"] = row.variant_is_active
    return variant


def _column_names(fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(name.removesuffix("_id") for name in fields)


def _products_by_sku(skus: Collection[str], *, lock: bool) -> dict[str, FieldValues]:
    """The products with these SKUs, as {sku: values}, locked in id order.

    Each product's values hold `variants`, its variants' values (those of
    VARIANT_IMPORT_FIELDS, with their pk and sku) in id order, and `variant`,
    its only variant's id, or None when it has several. Every variant of
    them is locked first, in id order, then the products: the stock
    service's order.
    """
    ids = list(
        Product.objects.filter(_AnyOf(F("sku"), skus)).values_list("pk", flat=True)
    )
    variants = ProductVariant.objects.filter(_AnyOf(F("product_id"), ids))
    products = Product.objects.filter(_AnyOf(F("pk"), ids))
    if lock:
        variants = variants.select_for_update()
        products = products.select_for_update()
    variants_of: defaultdict[int, list[FieldValues]] = defaultdict(list)
    for values in variants.order_by("pk").values(
        "pk", "product_id", "sku", *VARIANT_IMPORT_FIELDS
    ):
        variants_of[values["product_id"]].append(values)
    found: dict[str, FieldValues] = {}
    for values in products.order_by("pk").values("pk", "sku", "stock", *IMPORT_FIELDS):
        own = variants_of[values["pk"]]
        values["variants"] = own
        values["variant"] = own[0]["pk"] if len(own) == 1 else None
        found[values["sku"]] = values
    return found


class _AnyOf(Lookup):
    """`field = ANY(values)`: the values bound as one array.

    `field__in=values` binds a parameter per value, which the driver takes
    seconds to write into a statement for 100,000 of them; an import reads
    its whole file's rows with one such statement each.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs: Any, rhs: Iterable[Any]) -> None:
        # A list, which the driver binds as an array.
        super().__init__(lhs, list(rhs))

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def _import_slugs(
    rows: Sequence[ProductRow],
    current: dict[str, FieldValues],
    errors: list[RowError],
) -> dict[int, str]:
    """Each row's slug, {line: slug}; appends an error per slug already taken.

    A slug another product holds now is refused even if the file moves that
    product to another slug: the database checks each row as it changes.
    """
    asked = {row.slug for row in rows if row.slug}
    holders: dict[str, str] = dict(
        Product.objects.filter(_AnyOf(F("slug"), asked)).values_list("slug", "sku")
    )
    slugs: dict[int, str] = {}
    claimed: dict[str, int] = {}
    derive: list[ProductRow] = []
    for row in rows:
        before = current.get(row.sku)
        if not row.slug:
            if before is None:
                derive.append(row)
            else:
                slugs[row.line] = before["slug"]
            continue
        holder = holders.get(row.slug)
        if holder is not None and holder != row.sku:
            errors.append(
                RowError(row.line, f"slug {row.slug!r} belongs to product {holder}")
            )
        elif row.slug in claimed:
            errors.append(
                RowError(
                    row.line,
                    f"slug {row.slug!r} is already given on line {claimed[row.slug]}",
                )
            )
        else:
            claimed[row.slug] = row.line
            slugs[row.line] = row.slug
    if derive:
        taken = set(Product.objects.order_by().values_list("slug", flat=True))
        taken.update(claimed)
        longest = slug_max_length(Product)
        for row in derive:
            # As SluggedModel derives one: the name, then -2, -3…
            base = slugify(row.name)[: longest - 8].strip("-") or "product"
            slug, suffix = base, 2
            while slug in taken:
                slug, suffix = f"{base}-{suffix}", suffix + 1
            taken.add(slug)
            slugs[row.line] = slug
    return slugs


def _write_import_batch(
    plan: Sequence[PlannedRow], reference: str, user: User | None
) -> None:
    """Write one batch of an import: a few statements whatever its size.

    A product's price and stock are its only variant's: a new product gets
    a default variant, and an updated one's variant takes the new figures.
    """
    now = timezone.now()
    new_products: list[Product] = []
    updated_rows: list[FieldValues] = []
    updated_variants: list[FieldValues] = []
    fields: set[str] = set()
    variant_fields: set[str] = set()
    movements: list[StockMovement] = []
    for row, before, target, changed in plan:
        if before is None:
            defaults: FieldValues = {"description": "", "is_active": True, "stock": 0}
            new_products.append(Product(sku=row.sku, **{**defaults, **target}))
            continue
        own = set(changed) - {"price", "stock"}
        if own:
            # Every field is given: the update writes the batch's changed
            # fields of every row, so the unchanged ones must hold their
            # current value. (A new price or stock alone is the aggregates'.)
            updated_rows.append({**before, **target, "updated_at": now})
            fields.update(own)
        if {"price", "stock"} & set(changed):
            variant_fields.update({"price", "stock"} & set(changed))
            updated_variants.append(
                {
                    "pk": before["variant"],
                    "product_id": before["pk"],
                    "price": target["price"],
                    "stock": target.get("stock", before["stock"]),
                    "updated_at": now,
                }
            )
        if "stock" in changed:
            movements.append(
                StockMovement(
                    product_id=before["pk"],
                    variant_id=before["variant"],
                    sku=row.sku,
                    quantity=target["stock"] - before["stock"],
                    stock_after=target["stock"],
                    reason=Reason.IMPORT,
                    reference=reference,
                    user=user,
                )
            )
    # The base manager writes without scheduling a cache invalidation per
    # batch; import_products invalidates once at the end.
    Product._base_manager.bulk_create(new_products)
    new_variants = ProductVariant._base_manager.bulk_create(
        ProductVariant(
            product=product, sku=product.sku, price=product.price, stock=product.stock
        )
        for product in new_products
    )
    if updated_variants:
        _update_rows(
            ProductVariant, updated_variants, [*sorted(variant_fields), "updated_at"]
        )
    if updated_rows:
        _update_rows(Product, updated_rows, [*sorted(fields), "updated_at"])
    if updated_variants:
        refresh_aggregates(row["product_id"] for row in updated_variants)
    movements.extend(
        StockMovement(
            product_id=variant.product_id,
            variant=variant,
            sku=variant.sku,
            quantity=variant.stock,
            stock_after=variant.stock,
            reason=Reason.IMPORT,
            reference=reference,
            user=user,
        )
        for variant in new_variants
        if variant.stock
    )
    StockMovement.objects.bulk_create(movements)


def _insert_rows(model: type[models.Model], rows: Sequence[FieldValues]) -> list[int]:
    """Insert rows, {attname: value}, in one statement; return their ids in order.

    The rows are bound as one JSON document (_recordset). A field a row
    leaves out takes its default, a timestamp set on creation the time now;
    keys that name no field are left out.
    """
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    defaults = {
        field.attname: now
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        else field.get_default()
        for field in fields
    }
    columns = ", ".join(quote(_column(field)) for field in fields)
    # Accepted bandit B608: only column and table names from the model's own
    # metadata are formatted in; the rows are bound as one parameter.
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # nosec B608
        f"SELECT {columns} FROM {_recordset(model, connection)} AS v "
        f"RETURNING {quote(_column(meta.pk))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [_document([{**defaults, **row} for row in rows])])
        # In the rows' order, as PostgreSQL inserts and returns them (and
        # bulk_create() relies on too).
        return [row[0] for row in cursor.fetchall()]


def _update_rows(
    model: type[models.Model], rows: Sequence[FieldValues], fields: Sequence[str]
) -> None:
    """Write `fields` (attribute names) of many rows, {"pk": …, field: …}, at once.

    One `UPDATE … FROM` statement over the rows bound as one JSON document
    (_recordset), where Django's bulk_update() compiles a CASE WHEN per row
    and field (bench/README.md has the figures).
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    table = quote(meta.db_table)
    pk = quote(_column(meta.pk))
    assignments = ", ".join(
        f"{column} = v.{column}"
        for column in (quote(_column(by_attname[name])) for name in fields)
    )
    document = _document(
        [
            {meta.pk.attname: row["pk"], **{name: row[name] for name in fields}}
            for row in rows
        ]
    )
    # Accepted bandit B608: only column and table names from the model's own
    # metadata are formatted in; the rows are bound as one parameter.
    statement = (
        f"UPDATE {table} SET {assignments} "  # nosec B608
        f"FROM {_recordset(model, connection)} AS v WHERE {table}.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [document])


def _recordset(model: type[models.Model], connection: BaseDatabaseWrapper) -> str:
    """The rows of one JSON document parameter, read as the model's table's rows.

    PostgreSQL's `jsonb_populate_recordset` reads each object's keys as the
    table's columns (a column a row leaves out is null), numbers, arrays and
    JSON with their types: one parameter for a batch, where bulk_create()
    prepared every value of every row in Python (40 to 170 µs a row) and a
    parameter per value cost some 3 µs each (bench/README.md).
    """
    # The document's keys are the fields' attribute names: every catalog
    # column is named after its field's.
    assert all(field.attname == field.column for field in model._meta.concrete_fields)
    table = connection.ops.quote_name(model._meta.db_table)
    return f"jsonb_populate_recordset(NULL::{table}, %s::jsonb)"


def _document(rows: Sequence[FieldValues]) -> str:
    """Rows as a JSON document: decimals and times as their text."""
    return json.dumps(rows, default=str, ensure_ascii=False)


def _column(field: "models.Field[Any, Any]") -> str:
    # Every concrete field has its column.
    assert field.column is not None
    return field.column
