"""The demo store that `manage.py seed_demo` loads: its catalog, accounts and orders.

An app of its own because it uses every app (accounts, catalog, carts,
orders) and no app uses it, so the apps' dependencies still point one way.

Everything is made through the apps' services, as staff and shoppers would
make it: products with `create_product` (the initial stock is a movement,
so `reconcile_stock` holds), orders with `place_order`, `pay_order`,
`change_order_status` and `cancel_order` (stock taken and returned through
the ledger). Everything is keyed so that a second run finds it and makes
nothing twice: categories by slug, products by SKU, users by email, orders
by the customer's idempotency key; picture files by a name derived from the
SKU. The content is deterministic: product n is the same product, with the
same price, stock and picture, in every run and every database.
"""

import contextlib
import io
import itertools
import random
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from carts import services as cart_services
from catalog import services as catalog_services
from catalog.models import Category, Product
from orders import services as order_services
from orders.exceptions import PaymentDeclined
from orders.models import Order
from orders.payments import TestCardGateway, get_gateway
from pricing import services as pricing_services
from pricing.models import ShippingZone

STAFF_EMAIL = "demo.staff@example.com"
STAFF_PASSWORD = "demo-staff-password"
CUSTOMER_EMAIL = "demo.customer@example.com"
CUSTOMER_PASSWORD = "demo-customer-password"
STAFF_GROUP = "Store staff"
# What the staff group may do: run the catalog and the orders in the admin,
# and look at carts and customers (but not change accounts).
STAFF_PERMISSIONS = Q(content_type__app_label__in=["catalog", "orders"]) | Q(
    codename__in=["view_cart", "view_cartitem", "view_user"]
)

PICTURE_SIZE = 320
PICTURE_FOLDER = "products/demo"

CATALOG_FILE = tomllib.loads(
    Path(__file__).with_name("catalog.toml").read_text(encoding="utf-8")
)
# The categories, each with its subcategories, their variants and kinds of
# product: demo/catalog.toml says how they make the products.
CATALOG = CATALOG_FILE["category"]
# The products sold in options (size, colour).
OPTIONED = CATALOG_FILE["optioned"]

# The demo store's shipping zones: (zone, countries, [(code, name, price,
# free above, days)]). The demo customer ships by the first method.
ShippingMethodRow = tuple[str, str, str, str | None, int]
SHIPPING_ZONES: list[tuple[str, list[str], list[ShippingMethodRow]]] = [
    (
        "United States",
        ["US"],
        [
            ("usps-ground", "USPS Ground", "5.00", "50.00", 5),
            ("ups-2nd-day", "UPS 2nd Day Air", "14.00", None, 2),
        ],
    ),
    (
        "Canada and Europe",
        ["CA", "GB", "IE", "FR", "DE", "NL", "BE", "ES", "IT", "SE", "DK"],
        [("intl-priority", "International Priority", "24.00", "150.00", 7)],
    ),
]
DEMO_SHIPPING_METHOD = "usps-ground"

SHIPPING_ADDRESS = {
    "full_name": "Robin Shopper",
    "line1": "42 Roastery Lane",
    "city": "Portland",
    "postal_code": "97205",
    "country": "US",
    "phone": "+1 503 555 0142",
}

# The customer's orders: (idempotency key, [(product number, quantity)], the
# steps after checkout). Product numbers index the products in stock.
ORDERS = [
    ("demo-order-delivered", [(0, 2), (7, 1)], ["pay", "shipped", "delivered"]),
    ("demo-order-shipped", [(3, 1)], ["pay", "shipped"]),
    ("demo-order-paid", [(11, 1), (5, 2), (14, 1)], ["pay"]),
    ("demo-order-cancelled", [(9, 3)], ["cancel"]),
    ("demo-order-pending", [(2, 1), (12, 2)], ["decline"]),
]


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    description: str
    price: Decimal
    stock: int
    is_active: bool
    category_slug: str
    colour: tuple[int, int, int]


def subcategories():
    return [
        subcategory for category in CATALOG for subcategory in category["subcategory"]
    ]


def capacity():
    """How many different products the demo catalog holds."""
    return sum(
        len(subcategory["variants"]) * len(subcategory["kinds"])
        for subcategory in subcategories()
    )


def demo_products(count):
    """The first `count` demo products, spread evenly over the subcategories.

    Product n is the same in every run: its subcategory is n modulo the
    subcategories, its place there a fixed shuffle of the kinds and variants,
    and its price and stock come from a generator seeded with its SKU.
    """
    leaves = subcategories()
    orders = []
    for leaf in leaves:
        combinations = [
            (kind, variant)
            for kind in range(len(leaf["kinds"]))
            for variant in range(len(leaf["variants"]))
        ]
        random.Random(leaf["slug"]).shuffle(combinations)
        orders.append(combinations)
    products = []
    for n in range(count):
        place, index = divmod(n, len(leaves))
        leaf = leaves[index]
        kind, variant = orders[index][place]
        kind_name, low, high, about_kind = leaf["kinds"][kind]
        variant_name, about_variant = leaf["variants"][variant]
        sku = f"{leaf['sku_code']}-{kind + 1:02d}{variant + 1:02d}"
        rng = random.Random(sku)
        price = Decimal(int(low + (high - low) * rng.random())) + rng.choice(
            [Decimal("0.50"), Decimal("0.95"), Decimal("0.99")]
        )
        roll = rng.random()
        if roll < 0.04:
            stock = 0
        elif roll < 0.14:
            stock = rng.randint(1, 5)
        else:
            stock = rng.randint(8, 150)
        products.append(
            DemoProduct(
                sku=sku,
                name=kind_name.format(v=variant_name),
                description=about_kind.format(v=variant_name, about=about_variant),
                price=price,
                stock=stock,
                # A couple of products are withdrawn from sale.
                is_active=n % 137 != 71,
                category_slug=leaf["slug"],
                colour=_shade(leaf["colour"], variant),
            )
        )
    return products


def _shade(colour, step):
    return tuple(min(255, channel + 14 * step) for channel in colour)


def ensure_categories():
    """Create the demo categories that are missing; return (by slug, created)."""
    found = {category.slug: category for category in Category.objects.all()}
    created = 0
    for position, category in enumerate(CATALOG):
        slug = category["slug"]
        if slug not in found:
            found[slug] = Category.objects.create(
                name=category["name"],
                slug=slug,
                description=category["description"],
                position=position,
            )
            created += 1
        for sub_position, subcategory in enumerate(category["subcategory"]):
            if subcategory["slug"] not in found:
                found[subcategory["slug"]] = Category.objects.create(
                    name=subcategory["name"],
                    slug=subcategory["slug"],
                    parent=found[slug],
                    position=sub_position,
                )
                created += 1
    return found, created


def ensure_products(products, categories, *, on_progress=None):
    """Create the demo products that are missing (by SKU); return how many."""
    existing = set(
        Product.objects.filter(
            sku__in=[product.sku for product in products]
        ).values_list("sku", flat=True)
    )
    created = 0
    for done, product in enumerate(products, start=1):
        if product.sku not in existing:
            catalog_services.create_product(
                sku=product.sku,
                name=product.name,
                description=product.description,
                price=product.price,
                stock=product.stock,
                is_active=product.is_active,
                category=categories[product.category_slug],
                image=picture(product),
                reference="seed_demo",
            )
            created += 1
        if on_progress is not None:
            on_progress(done)
    return created


def ensure_optioned_products(categories):
    """Create the demo products sold in options that are missing; return how many.

    demo/catalog.toml's `optioned` products: a variant per combination of
    their option values, its SKU the product's with the values.
    """
    created = 0
    for spec in OPTIONED:
        if Product.objects.filter(sku=spec["sku"]).exists():
            continue
        names = [name for name, _ in spec["options"]]
        variants: list[catalog_services.NewVariant] = []
        for position, values in enumerate(
            itertools.product(*(values for _, values in spec["options"]))
        ):
            first = spec["options"][0][1].index(values[0])
            variants.append(
                {
                    "sku": "-".join(
                        [spec["sku"], *(value.upper() for value in values)]
                    ),
                    "options": dict(zip(names, values, strict=True)),
                    "price": Decimal(spec["price"]) + first * Decimal(spec["step"]),
                    "stock": (spec["stock"] + position) % 9,
                    "position": position,
                }
            )
        catalog_services.create_product(
            sku=spec["sku"],
            name=spec["name"],
            description=spec["description"],
            category=categories[spec["category"]],
            option_types=[
                {"name": name, "values": list(values)}
                for name, values in spec["options"]
            ],
            variants=variants,
            reference="seed_demo",
        )
        created += 1
    return created


def picture(product):
    """Store the product's picture unless it is there already; return its name.

    A tile of the product's colour with its initials, drawn with Pillow: the
    same product always gets the same file, so a second run writes nothing.
    """
    name = f"{PICTURE_FOLDER}/{product.sku.lower()}.png"
    if default_storage.exists(name):
        return name
    image = Image.new("RGB", (PICTURE_SIZE, PICTURE_SIZE), product.colour)
    draw = ImageDraw.Draw(image)
    initials = "".join(word[0] for word in product.name.split()[:2]).upper()
    font = ImageFont.load_default(size=PICTURE_SIZE // 3)
    draw.text(
        (PICTURE_SIZE / 2, PICTURE_SIZE / 2),
        initials,
        fill=(255, 255, 255),
        font=font,
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def ensure_user(*, email, password, first_name, last_name, staff=False):
    """Create the account, or bring it back to the demo's password and role.

    Returns (user, created).
    """
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(
            email, password, first_name=first_name, last_name=last_name
        )
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    if staff and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if staff:
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.add(*Permission.objects.filter(STAFF_PERMISSIONS))
        user.groups.add(group)
    return user, created


def ensure_shipping_zones():
    """The demo zones and methods, made once (by name); returns how many were new."""
    created = 0
    for name, countries, methods in SHIPPING_ZONES:
        if ShippingZone.objects.filter(name=name).exists():
            continue
        pricing_services.save_shipping_zone(
            zone=ShippingZone(name=name, countries=countries),
            methods=[
                {
                    "code": code,
                    "name": method_name,
                    "price": Decimal(price),
                    "free_above": None if free_above is None else Decimal(free_above),
                    "estimated_days": days,
                }
                for code, method_name, price, free_above, days in methods
            ],
        )
        created += 1
    return created


def ensure_orders(*, customer, staff, products):
    """Place the customer's demo orders that are missing; return how many.

    Each goes through checkout from the customer's cart (emptied first), then
    along its lifecycle: paid with the test card (or marked paid by staff
    when another gateway is configured), shipped, delivered, cancelled, or
    left pending after a declined card.
    """
    for_sale = list(
        Product.objects.filter(
            sku__in=[product.sku for product in products],
            is_active=True,
            stock__gte=10,
        ).order_by("sku")
    )
    created = 0
    for key, lines, steps in ORDERS:
        if Order.objects.filter(user=customer, idempotency_key=key).exists():
            continue
        if len(for_sale) <= max(number for number, _ in lines):
            continue  # a catalog too small for this order
        cart = cart_services.get_user_cart(user=customer)
        cart_services.clear_cart(cart=cart)
        for number, quantity in lines:
            cart_services.add_item(
                cart=cart,
                variant=for_sale[number].variants.get(),
                quantity=quantity,
            )
        # Saved too: the customer's address book then offers it at checkout.
        order = order_services.place_order(
            user=customer,
            shipping_address=SHIPPING_ADDRESS,
            save_address=True,
            shipping_method=DEMO_SHIPPING_METHOD,
            idempotency_key=key,
        ).order
        for step in steps:
            _advance(order, step, customer=customer, staff=staff)
        created += 1
    return created


def _advance(order, step, *, customer, staff):
    test_cards = isinstance(get_gateway(), TestCardGateway)
    if step == "pay" and test_cards:
        _pay_by_card(order, customer, TestCardGateway.APPROVED_NUMBER)
    elif step == "pay":
        order_services.change_order_status(
            order=order, status=Order.Status.PAID, user=staff, note="Demo payment"
        )
    elif step == "decline" and test_cards:
        # The attempt stays recorded; the order awaits payment.
        with contextlib.suppress(PaymentDeclined):
            _pay_by_card(order, customer, TestCardGateway.DECLINED_NUMBER)
    elif step == "cancel":
        order_services.cancel_order(
            order=order, user=customer, note="Ordered the wrong size"
        )
    elif step in (Order.Status.SHIPPED, Order.Status.DELIVERED):
        order_services.change_order_status(order=order, status=step, user=staff)


def _pay_by_card(order, customer, card_number):
    order_services.pay_order(
        order=order, user=customer, payment_method="test-card", card_number=card_number
    )
