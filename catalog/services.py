"""The catalog's writes: products, and the one stock service.

Every change of a product's stock goes through this module, which writes an
append-only StockMovement in the same transaction as the change, so that a
product's stock always equals the sum of its movements. Taking stock is a
conditional `UPDATE ... WHERE stock >= n`, so it cannot go below zero however
many checkouts race, and the database's check constraint refuses a negative
figure from anywhere else.

The catalog cache needs no call from here: the catalog QuerySets' update()
and the models' save() invalidate it after commit (see catalog/cache.py).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.exceptions import InsufficientStock, Shortage
from catalog.models import Category, Product, StockMovement

logger = logging.getLogger(__name__)

Reason = StockMovement.Reason

PRODUCT_FIELDS = {
    "sku",
    "name",
    "slug",
    "description",
    "price",
    "is_active",
    "category",
    "image",
}


# --- Products -----------------------------------------------------------------


@transaction.atomic
def create_product(
    *,
    sku: str,
    name: str,
    category: Category,
    price,
    description: str = "",
    slug: str = "",
    stock: int = 0,
    is_active: bool = True,
    image=None,
    user=None,
    reason: str = Reason.INITIAL,
    reference: str = "",
) -> Product:
    """Create a product; its initial stock is recorded as its first movement."""
    if stock < 0:
        raise ValidationError({"stock": "Stock cannot be negative."})
    product = Product(
        sku=sku,
        name=name,
        slug=slug,
        category=category,
        price=price,
        description=description,
        stock=stock,
        is_active=is_active,
        image=image or "",
    )
    product.save()
    if stock:
        _record(
            changes={product.pk: stock}, reason=reason, reference=reference, user=user
        )
    return product


@transaction.atomic
def update_product(*, product: Product, user=None, **changes) -> Product:
    """Change a product's fields; a new `stock` figure becomes an adjustment."""
    stock = changes.pop("stock", None)
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"update_product() cannot change {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(product, field, value if field != "image" else value or "")
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    if stock is not None:
        set_stock(product=product, stock=stock, user=user)
    return product


def set_products_active(*, products, is_active: bool) -> int:
    """Activate or deactivate many products at once; return how many."""
    return products.update(is_active=is_active, updated_at=timezone.now())


# --- Stock --------------------------------------------------------------------


@transaction.atomic
def adjust_stock(
    *,
    product: Product,
    quantity: int,
    reason: str = Reason.ADJUSTMENT,
    reference: str = "",
    user=None,
) -> Product:
    """Add (positive) or remove (negative) units; never below zero."""
    if not isinstance(quantity, int) or quantity == 0:
        raise ValidationError({"quantity": "Adjust stock by a non-zero whole number."})
    _change(
        changes={product.pk: quantity},
        reason=reason,
        reference=reference,
        user=user,
        require_active=False,
    )
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product


@transaction.atomic
def set_stock(
    *,
    product: Product,
    stock: int,
    reason: str = Reason.ADJUSTMENT,
    reference: str = "",
    user=None,
) -> Product:
    """Set the stock on hand to a counted figure, recording the difference."""
    if not isinstance(stock, int) or stock < 0:
        raise ValidationError({"stock": "Stock must be a whole number, 0 or more."})
    # Locked, so that no sale lands between reading the figure and writing
    # the difference.
    current = Product.objects.select_for_update().values_list("stock", flat=True)
    difference = stock - current.get(pk=product.pk)
    if difference:
        _change(
            changes={product.pk: difference},
            reason=reason,
            reference=reference,
            user=user,
            require_active=False,
        )
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product


@transaction.atomic
def take_stock(
    *,
    lines: Iterable[tuple[int, int]],
    reason: str = Reason.SALE,
    reference: str = "",
    user=None,
    require_active: bool = True,
) -> list[StockMovement]:
    """Take units of several products at once: all lines, or none.

    `lines` are (product_id, quantity) pairs; a product named twice is taken
    once for the sum. Raises InsufficientStock listing every line that the
    stock on hand cannot cover (and, with `require_active`, every inactive
    product), and then takes nothing.
    """
    totals = _positive_totals(lines)
    return _change(
        changes={pk: -quantity for pk, quantity in totals.items()},
        reason=reason,
        reference=reference,
        user=user,
        require_active=require_active,
    )


@transaction.atomic
def return_stock(
    *,
    lines: Iterable[tuple[int, int]],
    reason: str = Reason.CANCELLATION,
    reference: str = "",
    user=None,
) -> list[StockMovement]:
    """Put units back (a cancelled order, an expired reservation).

    Products deleted since are skipped: there is no stock left to restore.
    """
    totals = _positive_totals(lines)
    return _change(
        changes=totals,
        reason=reason,
        reference=reference,
        user=user,
        require_active=False,
    )


def _positive_totals(lines):
    totals = defaultdict(int)
    for product_id, quantity in lines:
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValidationError({"quantity": "Quantities must be whole numbers ≥ 1."})
        totals[product_id] += quantity
    return dict(totals)


def _change(*, changes, reason, reference, user, require_active):
    """Apply signed stock changes {product_id: units}, all or none."""
    short = []
    # Rows are updated, and so locked, in product id order: two transactions
    # that share products wait for each other instead of deadlocking.
    for product_id in sorted(changes):
        quantity = changes[product_id]
        products = Product.objects.filter(pk=product_id)
        if quantity < 0:
            products = products.filter(stock__gte=-quantity)
            if require_active:
                products = products.filter(is_active=True)
        changed = products.update(
            stock=F("stock") + quantity, updated_at=timezone.now()
        )
        if not changed and quantity < 0:
            short.append(product_id)
        elif not changed:
            logger.warning(
                "Stock of product %s not restored (%s): it no longer exists",
                product_id,
                reason,
            )
    if short:
        # The atomic block rolls back the lines already taken.
        raise InsufficientStock(_shortages(short, changes))
    return _record(changes=changes, reason=reason, reference=reference, user=user)


def _shortages(product_ids, changes):
    found = {
        row["pk"]: row
        for row in Product.objects.filter(pk__in=product_ids).values(
            "pk", "sku", "stock", "is_active"
        )
    }
    shortages = []
    for product_id in product_ids:
        row = found.get(product_id)
        requested = -changes[product_id]
        if row is None:
            shortages.append(Shortage(product_id, "", requested, 0, is_active=False))
        else:
            shortages.append(
                Shortage(
                    product_id,
                    row["sku"],
                    requested,
                    row["stock"] if row["is_active"] else 0,
                    is_active=row["is_active"],
                )
            )
    return shortages


def _record(*, changes, reason, reference, user):
    """Write the movements of changes already applied in this transaction."""
    # The rows are locked by this transaction, so the figures read are the
    # ones its own updates left.
    products = Product.objects.filter(pk__in=changes).values_list("pk", "sku", "stock")
    return StockMovement.objects.bulk_create(
        StockMovement(
            product_id=pk,
            sku=sku,
            quantity=changes[pk],
            stock_after=stock,
            reason=reason,
            reference=reference,
            user=user,
        )
        for pk, sku, stock in sorted(products)
    )
