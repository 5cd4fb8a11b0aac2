"""The cart's answer: read in one hand-built statement and written out.

The cart API's hot path (bench/README.md says why): the statement names
tables and columns through the models' `_meta`, and carts/tests/test_queries.py
proves the answer equal to CartSerializer's, field by field.
"""

import functools
import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.db import connections
from django.db.models import Field, Model
from django.http import HttpRequest

from accounts.models import User
from carts import services
from carts.models import LINE_ORDERING, Cart, CartItem
from catalog import services as catalog_services
from catalog.models import (
    IMAGE_ORDERING,
    Product,
    ProductImage,
    ProductVariant,
    SalePriceState,
)
from core.api import iso_datetime, money
from core.money import CENT
from pricing import pipeline


@dataclass(frozen=True)
class CartLine:
    """A line of a cart, with what its answer shows of the product and variant."""

    item_id: int
    quantity: int
    product_id: int
    slug: str
    name: str
    price: Decimal
    stock: int
    is_active: bool
    variant_id: int
    sku: str
    options: dict[str, str]
    variant_price: Decimal
    # The price under the sale in force, or None.
    variant_sale_price: Decimal | None
    variant_stock: int
    variant_is_active: bool
    variant_weight: int | None
    category_id: int
    tax_class: str
    # The name of the product's first picture's file, or None.
    image: str | None

    def pricing_line(self) -> pipeline.Line:
        """The line as the pricing pipeline reads it."""
        price = self.variant_price
        if self.variant_sale_price is not None:
            price = self.variant_sale_price
        return pipeline.Line(
            key=self.item_id,
            unit_price=price,
            quantity=self.quantity,
            product_id=self.product_id,
            category_id=self.category_id,
            tax_class=self.tax_class,
            weight=self.variant_weight or 0,
        )


@dataclass(frozen=True)
class CartLines:
    """A cart and its lines, in the lines' order."""

    cart_id: int | None
    token: str | None
    updated_at: datetime | None
    shipping_country: str
    shipping_method_id: int | None
    voucher_id: int | None
    lines: list[CartLine]


class CartProductRepresentation(TypedDict):
    id: int
    slug: str
    name: str
    price: str
    image: str | None
    in_stock: bool


class CartVariantRepresentation(TypedDict):
    id: int
    sku: str
    options: dict[str, str]


class CartItemRepresentation(TypedDict):
    id: int
    product: CartProductRepresentation
    variant: CartVariantRepresentation
    quantity: int
    unit_price: str
    line_total: str
    discount: str
    tax_rate: str


class CartRepresentation(TypedDict):
    id: int | None
    token: str | None
    items: list[CartItemRepresentation]
    item_count: int
    subtotal: str
    shipping_country: str
    shipping_method: str | None
    shipping_cost: str
    discount: str
    voucher: str | None
    tax: str
    prices_include_tax: bool
    total: str
    currency: str
    warnings: list[services.CartWarning]
    updated_at: str | None


# The columns read, in the order of CartLines' and CartLine's fields.
CART_COLUMNS = (
    (Cart, "id"),
    (Cart, "token"),
    (Cart, "updated_at"),
    (Cart, "shipping_country"),
    (Cart, "shipping_method"),
    (Cart, "voucher"),
)
LINE_COLUMNS = (
    (CartItem, "id"),
    (CartItem, "quantity"),
    (Product, "id"),
    (Product, "slug"),
    (Product, "name"),
    (Product, "price"),
    (Product, "stock"),
    (Product, "is_active"),
    (ProductVariant, "id"),
    (ProductVariant, "sku"),
    (ProductVariant, "options"),
    (ProductVariant, "price"),
    (ProductVariant, "sale_price"),
    (ProductVariant, "stock"),
    (ProductVariant, "is_active"),
    (ProductVariant, "weight"),
    (Product, "category"),
    (Product, "tax_class"),
)


@functools.cache
def cart_lines_sql(owner: str = "user") -> str:
    """The statement reading a cart, its lines, variants and products: the
    cart of the user whose id is bound (`owner` "user"), or the anonymous
    cart whose token is bound ("token")."""
    quote = connections[Cart.objects.db].ops.quote_name

    def table(model: type[Model]) -> str:
        return quote(model._meta.db_table)

    def column(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        # Concrete fields, a foreign key's too: each has its column.
        assert isinstance(field, Field)
        assert field.column is not None
        return f"{table(model)}.{quote(field.column)}"

    columns = ", ".join(column(*named) for named in CART_COLUMNS + LINE_COLUMNS)
    image_order = ", ".join(column(ProductImage, name) for name in IMAGE_ORDERING)
    # The product's first picture, as its `images` are ordered. Accepted
    # bandit B608, as below: names from the models' metadata only.
    first_image = (
        f"(SELECT {column(ProductImage, 'image')} FROM {table(ProductImage)}"  # nosec B608
        f" WHERE {column(ProductImage, 'product')} = {column(Product, 'id')}"
        f" ORDER BY {image_order} LIMIT 1)"
    )
    order = ", ".join(
        column(CartItem, name.removeprefix("-"))
        + (" DESC" if name.startswith("-") else "")
        for name in LINE_ORDERING
    )
    # Accepted bandit B608: only table and column names from the models'
    # metadata are formatted in; the user id is bound.
    # When the sale prices go stale, as seconds since the epoch (infinity:
    # no sale is scheduled; NULL: no state yet), so that a read at or after
    # it writes them first (catalog.services.ensure_sale_prices).
    next_change = column(SalePriceState, "next_change_at")
    prices_due = (
        f"(SELECT COALESCE(EXTRACT(EPOCH FROM {next_change}), 'Infinity'::float8)"
        f" FROM {table(SalePriceState)}"  # nosec B608
        f" WHERE {column(SalePriceState, 'id')} = 1)"
    )
    return (
        f"SELECT {columns}, {first_image}, {prices_due} FROM {table(Cart)}"  # nosec B608
        f" LEFT JOIN {table(CartItem)}"
        f" ON {column(CartItem, 'cart')} = {column(Cart, 'id')}"
        f" LEFT JOIN {table(ProductVariant)}"
        f" ON {column(ProductVariant, 'id')} = {column(CartItem, 'variant')}"
        f" LEFT JOIN {table(Product)}"
        f" ON {column(Product, 'id')} = {column(ProductVariant, 'product')}"
        f" WHERE {column(Cart, owner)} = %s ORDER BY {order}"
    )


def read_cart(user_id: int | None = None, *, token: str = "") -> CartLines | None:
    """Read the user's cart (or the anonymous cart with this token) with its
    lines and their products, or None if none.

    Its prices are those in force: should a sale have started or ended since
    the sale prices were written, they are written first and the cart read
    again.
    """
    statement = cart_lines_sql("user" if user_id is not None else "token")
    owner = user_id if user_id is not None else token
    with connections[Cart.objects.db].cursor() as cursor:
        cursor.execute(statement, [owner])
        rows = cursor.fetchall()
        if rows and (rows[0][-1] is None or rows[0][-1] <= time.time()):
            catalog_services.ensure_sale_prices()
            cursor.execute(statement, [owner])
            rows = cursor.fetchall()
    if not rows:
        return None
    rows = [row[:-1] for row in rows]
    cart = rows[0][: len(CART_COLUMNS)]
    options_at = LINE_COLUMNS.index((ProductVariant, "options"))
    lines = []
    for row in rows:
        line = list(row[len(CART_COLUMNS) :])
        if line[0] is None:
            continue  # the one row of an empty cart
        # The jsonb column as Django's driver set-up hands it over: text.
        if isinstance(line[options_at], str):
            line[options_at] = json.loads(line[options_at])
        lines.append(CartLine(*line))
    cart_id, token, updated_at, country, method_id, voucher_id = cart
    return CartLines(cart_id, token, updated_at, country, method_id, voucher_id, lines)


def user_cart_representation(
    user: User, *, request: HttpRequest | None = None
) -> CartRepresentation:
    """The user's cart as CartSerializer shows it, created empty on first use."""
    cart = read_cart(user.pk)
    if cart is None:
        created = services.get_user_cart(user=user)
        cart = CartLines(
            created.pk,
            None,
            created.updated_at,
            created.shipping_country,
            created.shipping_method_id,
            created.voucher_id,
            [],
        )
    return cart_representation(cart, request=request)


def anonymous_cart_representation(
    token: str, *, request: HttpRequest | None = None
) -> CartRepresentation:
    """The anonymous cart with this token as CartSerializer shows it; an empty
    one, not saved (no id, no token), when there is none."""
    cart = read_cart(token=token) if token else None
    if cart is None:
        cart = CartLines(None, None, None, "", None, None, [])
    return cart_representation(cart, request=request)


def cart_representation(
    cart: CartLines, *, request: HttpRequest | None = None
) -> CartRepresentation:
    """A cart as CartSerializer shows it, money as DRF's DecimalField writes it."""
    image_storage = ProductImage._meta.get_field("image").storage
    price = services.price_cart(
        lines=[line.pricing_line() for line in cart.lines],
        country=cart.shipping_country,
        shipping_method_id=cart.shipping_method_id,
        voucher_id=cart.voucher_id,
    )
    breakdown = price.breakdown
    items: list[CartItemRepresentation] = []
    warnings: list[services.CartWarning] = []
    item_count = 0
    for line, priced in zip(cart.lines, breakdown.lines, strict=True):
        item_count += line.quantity
        image = None
        if line.image:
            image = image_storage.url(line.image)
            if request is not None:
                image = request.build_absolute_uri(image)
        items.append(
            {
                "id": line.item_id,
                "product": {
                    "id": line.product_id,
                    "slug": line.slug,
                    "name": line.name,
                    "price": money(line.price),
                    "image": image,
                    "in_stock": line.stock > 0,
                },
                "variant": {
                    "id": line.variant_id,
                    "sku": line.sku,
                    "options": line.options,
                },
                "quantity": line.quantity,
                "unit_price": money(priced.line.unit_price.quantize(CENT)),
                "line_total": money(priced.total),
                "discount": money(priced.discount),
                "tax_rate": money(priced.tax_rate),
            }
        )
        warning = services.line_warning(
            item_id=line.item_id,
            quantity=line.quantity,
            is_active=line.is_active and line.variant_is_active,
            stock=line.variant_stock,
        )
        if warning is not None:
            warnings.append(warning)
    method = price.shipping_method
    return {
        "id": cart.cart_id,
        "token": cart.token,
        "items": items,
        "item_count": item_count,
        "subtotal": money(breakdown.subtotal),
        "shipping_country": price.country,
        "shipping_method": None if method is None else method.code,
        "shipping_cost": money(breakdown.shipping_cost),
        "discount": money(breakdown.discount),
        "voucher": price.voucher_code,
        "tax": money(breakdown.tax),
        "prices_include_tax": breakdown.prices_include_tax,
        "total": money(breakdown.total),
        "currency": settings.STORE_CURRENCY,
        "warnings": warnings,
        "updated_at": None
        if cart.updated_at is None
        else iso_datetime(cart.updated_at),
    }
