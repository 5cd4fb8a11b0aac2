"""The store's pricing rules at work: shipping methods, tax rates, vouchers.

The cart (carts) and checkout (orders) price lines through price_lines, so
that what the cart shows is what checkout charges; the pipeline itself is
pricing.pipeline.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_countries import countries

from accounts.addresses import COUNTRY_CODES, NOT_A_COUNTRY
from accounts.models import User
from catalog.models import Category, Product
from pricing import pipeline
from pricing.exceptions import VoucherExhausted, VoucherInvalid
from pricing.models import (
    ShippingMethod,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherUse,
)
from pricing.queries import PricingRules, rules_for

# --- Prices ---------------------------------------------------------------------------


def flat_rate() -> pipeline.ShippingRate:
    """The store's shipping where no zone serves the country (settings)."""
    return pipeline.ShippingRate(
        settings.SHIPPING_FLAT_RATE, settings.FREE_SHIPPING_THRESHOLD
    )


def pricing_rules(country: str, *, now: datetime | None = None) -> PricingRules:
    """The shipping methods, tax rates and promotions that price an order to
    `country` (any case) at `now`, in one query (pricing.queries)."""
    code = (country or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise ValidationError({"country": NOT_A_COUNTRY})
    return rules_for(code, now=now or timezone.now())


def voucher_with_coverage(pk: int | None) -> Voucher | None:
    """The voucher with this id (a cart's), read with what it covers, so that
    voucher_terms reads nothing more; None when there is none."""
    if pk is None:
        return None
    return (
        Voucher.objects.filter(pk=pk)
        .annotate(product_ids=PRODUCT_IDS, category_ids=CATEGORY_IDS)
        .first()
    )


def voucher_terms(voucher: Voucher) -> pipeline.VoucherTerms:
    """The voucher as the pipeline reads it, its categories with their
    subtrees: what it covers read now (one query) unless it was read with it
    (voucher_with_coverage); one more for the tree when it names categories."""
    product_ids = getattr(voucher, "product_ids", None)
    category_ids = getattr(voucher, "category_ids", None)
    if product_ids is None or category_ids is None:
        covered = Voucher.objects.filter(pk=voucher.pk).aggregate(
            product_ids=PRODUCT_IDS, category_ids=CATEGORY_IDS
        )
        product_ids, category_ids = covered["product_ids"], covered["category_ids"]
    return pipeline.VoucherTerms(
        code=voucher.code,
        kind=voucher.kind,
        value=voucher.value,
        min_subtotal=voucher.min_subtotal,
        starts_at=voucher.starts_at,
        ends_at=voucher.ends_at,
        product_ids=_ids(product_ids),
        category_ids=_with_subtrees(_ids(category_ids)),
    )


# What a voucher or promotion covers, read with it: ids (None where none).
PRODUCT_IDS = ArrayAgg("products__id", distinct=True, default=[])
CATEGORY_IDS = ArrayAgg("categories__id", distinct=True, default=[])


def _ids(values: list[int | None]) -> frozenset[int]:
    return frozenset(value for value in values if value is not None)


def _with_subtrees(
    category_ids: frozenset[int], subtrees: dict[int, set[int]] | None = None
) -> frozenset[int]:
    """The categories and every category below them."""
    if not category_ids:
        return category_ids
    if subtrees is None:
        subtrees = Category.objects.subtree_ids_by_id()
    found: set[int] = set()
    for category_id in category_ids:
        found |= subtrees.get(category_id, {category_id})
    return frozenset(found)


def price_lines(
    lines: Sequence[pipeline.Line],
    *,
    rules: PricingRules,
    method: ShippingMethod | None,
    voucher: Voucher | None = None,
    now: datetime | None = None,
) -> pipeline.Breakdown:
    """What `lines` cost under `rules` (the destination's) shipped by `method`
    (None: the flat rule), with `voucher` where it applies."""
    [(_, breakdown)] = price_by_methods(
        lines, rules=rules, methods=[method], voucher=voucher, now=now
    )
    return breakdown


def price_by_methods(
    lines: Sequence[pipeline.Line],
    *,
    rules: PricingRules,
    methods: Sequence[ShippingMethod | None],
    voucher: Voucher | None = None,
    now: datetime | None = None,
) -> list[tuple[ShippingMethod | None, pipeline.Breakdown]]:
    """What `lines` cost by each of `methods` (None: the flat rule), for a
    page that shows them side by side; the voucher read once."""
    terms = None if voucher is None else voucher_terms(voucher)
    now = now or timezone.now()
    return [
        (
            method,
            pipeline.price(
                lines,
                shipping=flat_rate() if method is None else method.rate,
                tax_rates=rules.tax_rates,
                prices_include_tax=settings.PRICES_INCLUDE_TAX,
                round_tax_per_line=settings.TAX_ROUNDING == "line",
                voucher=terms,
                promotions=rules.promotions,
                now=now,
            ),
        )
        for method in methods
    ]


# --- Shipping methods ----------------------------------------------------------------

METHOD_FIELDS = (
    "code",
    "name",
    "price",
    "free_above",
    "estimated_days",
    "max_weight",
)


def chosen_shipping_method(
    *,
    rules: PricingRules,
    code: str | None,
    chosen_id: int | None = None,
    weight: int = 0,
) -> ShippingMethod | None:
    """The method `code` names, if it ships an order of `weight` grams to the
    rules' country; None for the flat rule.

    Without a `code`, the method chosen before (`chosen_id`, the cart's),
    if it still does. Raises ValidationError naming `shipping_method` when
    methods do and none (or another) is named, or when none do and one is
    named.
    """
    offered = rules.methods_for(weight)
    code = (code or "").strip()
    by_code = {method.code: method for method in offered}
    if code in by_code:
        return by_code[code]
    if not code:
        earlier = next((method for method in offered if method.pk == chosen_id), None)
        if earlier is not None:
            return earlier
    if not offered and not code:
        return None
    country = rules.country
    place = countries.name(country)
    heavy = next((method for method in rules.methods if method.code == code), None)
    if not offered:
        message = f"No shipping method ships to {place}: leave it out."
    elif not code:
        message = f"Choose how to ship to {place}: " + ", ".join(by_code) + "."
    elif heavy is not None:
        message = (
            f"{heavy.name} takes orders of at most {heavy.max_weight} g; this "
            f"one weighs {weight} g: choose " + ", ".join(by_code) + "."
        )
    else:
        message = (
            f"That shipping method does not ship to {place}: choose "
            + ", ".join(by_code)
            + "."
        )
    raise ValidationError({"shipping_method": message})


def shipping_methods_for(*, country: str, weight: int = 0) -> list[ShippingMethod]:
    """The methods of every zone that holds `country` (any case) and that take
    an order of `weight` grams, cheapest first. Where the country's zones
    have methods but none takes the weight, none: the store's flat rule."""
    return pricing_rules(country).methods_for(weight)


@transaction.atomic
def save_shipping_zone(
    *, zone: ShippingZone, methods: list[dict[str, object]] | None = None
) -> ShippingZone:
    """Create or change a zone and, when given, its whole list of methods.

    A method is matched to the zone's own by `code`: one given is created or
    changed, one of the zone's not given is deleted. Raises ValidationError
    naming `countries`, or `methods.<n>.<field>` (a code taken by another
    zone's method included).
    """
    zone.full_clean()
    zone.save()
    if methods is None:
        return zone
    codes = [str(data.get("code", "")) for data in methods]
    if len(set(codes)) < len(codes):
        raise ValidationError({"methods": "Give each method its own code."})
    existing = {method.code: method for method in zone.methods.select_for_update()}
    zone.methods.exclude(code__in=codes).delete()
    for number, data in enumerate(methods):
        method = existing.get(codes[number]) or ShippingMethod(zone=zone)
        for name in METHOD_FIELDS:
            setattr(method, name, data.get(name))
        try:
            method.full_clean(exclude=["zone"])
            # A savepoint: a code taken meanwhile is refused, not a 500.
            with transaction.atomic():
                method.save()
        except ValidationError as error:
            raise ValidationError(
                {
                    f"methods.{number}.{field}": messages
                    for field, messages in error.message_dict.items()
                }
            ) from None
        except IntegrityError:
            raise ValidationError(
                {f"methods.{number}.code": "Another method has this code."}
            ) from None
    return zone


# --- Tax rates ------------------------------------------------------------------------


def save_tax_rate(*, rate: TaxRate) -> TaxRate:
    """Create or change a tax rate; ValidationError names the field at fault."""
    rate.full_clean(validate_constraints=False)
    try:
        # A savepoint: a class taken meanwhile is refused, not a 500.
        with transaction.atomic():
            rate.save()
    except IntegrityError:
        raise ValidationError(
            {"tax_class": "This country has a rate for this class already."}
        ) from None
    return rate


# --- Vouchers -------------------------------------------------------------------------


def find_voucher(code: str) -> Voucher:
    """The voucher with this code (any case), or VoucherInvalid."""
    voucher = Voucher.objects.by_code(code).first()
    if voucher is None:
        raise VoucherInvalid("No voucher has this code.")
    return voucher


def check_voucher(
    voucher: Voucher,
    *,
    lines: Sequence[pipeline.Line],
    user: User | None = None,
    email: str = "",
) -> None:
    """Raise VoucherInvalid saying why `voucher` cannot be used on `lines` now."""
    if voucher.is_used_up:
        raise VoucherInvalid("This voucher has been used up.")
    if voucher.once_per_customer and _used_by(voucher, user=user, email=email):
        raise VoucherInvalid("You have used this voucher already.")
    problem = pipeline.voucher_problem(
        voucher_terms(voucher), lines, now=timezone.now()
    )
    if problem is not None:
        raise VoucherInvalid(problem)


def redeem_voucher(
    voucher: Voucher, *, order_number: str, user: User | None, email: str
) -> None:
    """Take one use of `voucher` for an order, inside the order's transaction.

    The use is taken by a conditional update, as stock is: of many checkouts
    racing for the last use, one gets it, and the others wait for its
    commit and then raise VoucherExhausted (as does a customer's second use
    of a once-per-customer voucher). The voucher's row stays locked until
    the transaction ends, so take it after the stock.
    """
    taken = (
        Voucher.objects.filter(pk=voucher.pk)
        .filter(Q(usage_limit__isnull=True) | Q(used_count__lt=F("usage_limit")))
        .update(used_count=F("used_count") + 1)
    )
    if not taken:
        raise VoucherExhausted()
    # The row is locked now: another order by this customer is either
    # committed and seen here, or waits for this one.
    if voucher.once_per_customer and _used_by(voucher, user=user, email=email):
        raise VoucherExhausted(
            "You have used this voucher already: remove it from the cart to "
            "check out without it."
        )
    VoucherUse.objects.create(
        voucher=voucher, user=user, email=email.lower(), order_number=order_number
    )


def release_voucher(*, order_number: str) -> None:
    """Give back the voucher use of a cancelled order, if it had one."""
    use = VoucherUse.objects.filter(order_number=order_number).first()
    if use is None:
        return
    use.delete()
    Voucher.objects.filter(pk=use.voucher_id).update(used_count=F("used_count") - 1)


@transaction.atomic
def save_voucher(
    *,
    voucher: Voucher,
    categories: Iterable[Category] | None = None,
    products: Iterable[Product] | None = None,
) -> Voucher:
    """Create or change a voucher and, when given, what it covers.

    Raises ValidationError naming the field at fault: `code` when another
    voucher has it (in any case), `usage_limit` when below the uses taken.
    """
    if voucher.pk is not None:
        # Locked, and its uses read afresh: a checkout's use taken since the
        # voucher was read is kept, and the limit is checked against it.
        voucher.used_count = (
            Voucher.objects.select_for_update()
            .values_list("used_count", flat=True)
            .get(pk=voucher.pk)
        )
        used = voucher.used_count
        if voucher.usage_limit is not None and voucher.usage_limit < used:
            raise ValidationError(
                {
                    "usage_limit": "The limit cannot be below the uses taken "
                    f"already ({used})."
                }
            )
    voucher.full_clean()
    try:
        # A savepoint: a code taken meanwhile is refused, not a 500.
        with transaction.atomic():
            voucher.save()
    except IntegrityError:
        raise ValidationError({"code": "Another voucher has this code."}) from None
    if categories is not None:
        voucher.categories.set(categories)
    if products is not None:
        voucher.products.set(products)
    return voucher


def _used_by(voucher: Voucher, *, user: User | None, email: str) -> bool:
    who = Q(email=email.lower()) if email else Q(pk__in=[])
    if user is not None and user.pk is not None:
        who |= Q(user=user)
    return voucher.uses.filter(who).exists()
