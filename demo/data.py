"""The demo store that `manage.py seed_demo` loads: its catalog, accounts and orders.

It lives in the project package, not in an app, because it uses every app
(accounts, catalog, carts, orders) and belongs to none: the project is the
one place allowed to depend on them all (its urls.py does too), so the apps'
dependencies still point one way.

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
import random
from dataclasses import dataclass
from decimal import Decimal

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

# (name, slug, description, [(name, slug, sku code, colour, variants, kinds)])
# A subcategory's products are every kind in every variant: "{v}" in a
# kind's name and description is the variant's name, "{about}" its blurb.
# A kind is (name, lowest price, highest price, description).
CATALOG = [
    (
        "Coffee",
        "coffee",
        "Freshly roasted coffee from small farms, whole or ground.",
        [
            (
                "Whole Beans",
                "coffee-beans",
                "BEA",
                (111, 78, 55),
                [
                    ("Ethiopia Yirgacheffe", "Floral, with bergamot and lemon."),
                    ("Colombia Huila", "Red apple, panela sugar and a round body."),
                    ("Kenya Nyeri", "Blackcurrant and grapefruit, juicy and bright."),
                    ("Guatemala Antigua", "Cocoa, orange peel and a touch of spice."),
                    ("Brazil Cerrado", "Hazelnut and milk chocolate, low in acidity."),
                    ("Sumatra Mandheling", "Earthy and syrupy, with cedar notes."),
                ],
                [
                    (
                        "{v} Beans 250 g",
                        9,
                        15,
                        "Whole beans, roasted this week. {about}",
                    ),
                    (
                        "{v} Beans 1 kg",
                        30,
                        48,
                        "A kilo of whole beans for the busy kitchen. {about}",
                    ),
                    (
                        "{v} Espresso Roast 500 g",
                        16,
                        26,
                        "Roasted a little darker for espresso. {about}",
                    ),
                    (
                        "{v} Light Roast 250 g",
                        10,
                        16,
                        "A light roast for filter brewing. {about}",
                    ),
                    (
                        "{v} Decaf Beans 250 g",
                        10,
                        15,
                        "Swiss Water decaffeinated, all the taste. {about}",
                    ),
                    (
                        "{v} Green Beans 1 kg",
                        14,
                        22,
                        "Unroasted, for roasting at home. {about}",
                    ),
                ],
            ),
            (
                "Ground Coffee",
                "coffee-ground",
                "GRD",
                (140, 98, 70),
                [
                    ("House Blend", "Our everyday blend: chocolate and caramel."),
                    ("Morning Blend", "Bright and sweet, for the first cup."),
                    ("Italian Roast", "Dark, bittersweet and bold."),
                    ("French Roast", "Smoky and intense, with a heavy body."),
                    ("Breakfast Blend", "Balanced and mellow, good with milk."),
                    ("Single Origin Peru", "Gentle, with notes of nougat."),
                ],
                [
                    (
                        "{v} for Filter 250 g",
                        8,
                        13,
                        "Medium grind for drip and pour-over. {about}",
                    ),
                    (
                        "{v} for Espresso 250 g",
                        9,
                        14,
                        "Fine grind for espresso machines. {about}",
                    ),
                    (
                        "{v} for Cafetière 500 g",
                        13,
                        20,
                        "Coarse grind for the French press. {about}",
                    ),
                    (
                        "{v} for Moka Pot 250 g",
                        8,
                        13,
                        "Fine-medium grind for stovetop pots. {about}",
                    ),
                    (
                        "{v} Cold Brew Grind 500 g",
                        14,
                        21,
                        "Extra coarse, for steeping overnight. {about}",
                    ),
                    ("{v} Ground 1 kg", 24, 36, "A kilo, ground for filter. {about}"),
                ],
            ),
            (
                "Capsules & Pods",
                "coffee-capsules",
                "CAP",
                (90, 60, 45),
                [
                    ("Ristretto", "Short and intense."),
                    ("Lungo", "Long and smooth."),
                    ("Decaf Lungo", "All the flavour, none of the caffeine."),
                    ("Caramel", "Sweet caramel aroma."),
                    ("Vanilla", "Soft notes of Madagascar vanilla."),
                    ("Hazelnut", "Roasted hazelnut aroma."),
                ],
                [
                    (
                        "{v} Capsules x10",
                        4,
                        6,
                        "Aluminium capsules for Nespresso Original machines. {about}",
                    ),
                    ("{v} Capsules x30", 11, 16, "A month of capsules. {about}"),
                    ("{v} Capsules x50", 18, 25, "The office pack. {about}"),
                    (
                        "{v} Compostable Pods x20",
                        7,
                        10,
                        "Home-compostable pods. {about}",
                    ),
                    ("{v} Soft Pods x16", 4, 7, "Paper pods for pod brewers. {about}"),
                    (
                        "{v} Intense Capsules x10",
                        4,
                        6,
                        "Roasted longer for more body. {about}",
                    ),
                ],
            ),
        ],
    ),
    (
        "Tea",
        "tea",
        "Loose leaf and bagged teas, green, black and herbal.",
        [
            (
                "Green Tea",
                "tea-green",
                "GRN",
                (96, 140, 70),
                [
                    ("Sencha", "Grassy and fresh, steamed in the Japanese way."),
                    ("Gyokuro", "Shade-grown, sweet and full of umami."),
                    ("Dragon Well", "Pan-fired, with a toasted chestnut note."),
                    ("Genmaicha", "Green tea with toasted brown rice."),
                    ("Jasmine Pearl", "Hand-rolled pearls scented with jasmine."),
                    ("Matcha", "Stone-ground leaf, vivid and creamy."),
                ],
                [
                    (
                        "{v} Loose Leaf 50 g",
                        6,
                        14,
                        "Brew at 75 °C for two minutes. {about}",
                    ),
                    (
                        "{v} Loose Leaf 100 g",
                        10,
                        24,
                        "Brew at 75 °C for two minutes. {about}",
                    ),
                    (
                        "{v} Tea Bags x20",
                        4,
                        8,
                        "Pyramid bags with whole leaves. {about}",
                    ),
                    (
                        "{v} Tea Bags x50",
                        9,
                        16,
                        "Pyramid bags with whole leaves. {about}",
                    ),
                    ("Organic {v} 100 g", 12, 26, "Certified organic. {about}"),
                    ("{v} Gift Tin 80 g", 12, 22, "In a tin worth keeping. {about}"),
                ],
            ),
            (
                "Black Tea",
                "tea-black",
                "BLK",
                (60, 35, 30),
                [
                    ("Assam", "Malty and strong, made for milk."),
                    ("Darjeeling First Flush", "Light, floral and muscatel."),
                    ("Ceylon", "Bright and brisk, with citrus notes."),
                    ("Earl Grey", "Black tea with oil of bergamot."),
                    ("English Breakfast", "A robust blend of Assam and Ceylon."),
                    ("Lapsang Souchong", "Smoked over pine fires."),
                ],
                [
                    (
                        "{v} Loose Leaf 100 g",
                        6,
                        14,
                        "Brew at 95 °C for four minutes. {about}",
                    ),
                    (
                        "{v} Loose Leaf 250 g",
                        12,
                        26,
                        "Brew at 95 °C for four minutes. {about}",
                    ),
                    (
                        "{v} Tea Bags x40",
                        4,
                        8,
                        "Strong enough for a builder's brew. {about}",
                    ),
                    ("{v} Tea Bags x80", 7, 13, "The family pack. {about}"),
                    ("Organic {v} 100 g", 8, 16, "Certified organic. {about}"),
                    ("{v} Caddy 125 g", 14, 24, "In a refillable caddy. {about}"),
                ],
            ),
            (
                "Herbal Tea",
                "tea-herbal",
                "HRB",
                (150, 80, 110),
                [
                    ("Peppermint", "Cool and clean, caffeine free."),
                    ("Chamomile", "Honeyed and calming."),
                    ("Rooibos", "South African red bush, naturally sweet."),
                    ("Lemon Verbena", "Zesty and fragrant."),
                    ("Hibiscus", "Tart, ruby red, lovely iced."),
                    ("Ginger & Lemon", "Warming and bright."),
                ],
                [
                    ("{v} Infusion 50 g", 5, 9, "Loose, whole herbs. {about}"),
                    ("{v} Infusion 100 g", 8, 14, "Loose, whole herbs. {about}"),
                    ("{v} Tea Bags x20", 3, 6, "Biodegradable bags. {about}"),
                    ("{v} Tea Bags x50", 7, 11, "Biodegradable bags. {about}"),
                    ("Organic {v} 75 g", 7, 12, "Certified organic. {about}"),
                    (
                        "{v} Iced Tea Blend 150 g",
                        8,
                        13,
                        "Cold-brews in the fridge overnight. {about}",
                    ),
                ],
            ),
        ],
    ),
    (
        "Kitchen",
        "kitchen",
        "Everything to brew, serve and store it well.",
        [
            (
                "Brewing",
                "kitchen-brewing",
                "BRW",
                (70, 80, 95),
                [
                    ("Glass", "Heat-resistant borosilicate glass."),
                    ("Copper", "Hand-finished copper that ages beautifully."),
                    ("Matte Black", "Powder-coated steel in matte black."),
                    ("Brushed Steel", "Brushed stainless steel, dishwasher safe."),
                    ("White Ceramic", "Glazed porcelain that holds the heat."),
                    ("Sage Green", "Enamelled steel in soft sage green."),
                ],
                [
                    ("{v} Pour-Over Dripper", 18, 45, "Brews one or two cups. {about}"),
                    (
                        "{v} French Press 1 L",
                        25,
                        60,
                        "Eight cups, with a fine mesh filter. {about}",
                    ),
                    ("{v} Gooseneck Kettle", 35, 80, "A slow, precise pour. {about}"),
                    (
                        "{v} Cold Brew Jar 1.5 L",
                        22,
                        40,
                        "Steeps a batch for the week. {about}",
                    ),
                    (
                        "{v} Moka Pot 6-Cup",
                        28,
                        55,
                        "Stovetop espresso, gas or induction. {about}",
                    ),
                    (
                        "{v} Milk Jug 600 ml",
                        14,
                        30,
                        "A spout made for latte art. {about}",
                    ),
                ],
            ),
            (
                "Mugs & Cups",
                "kitchen-mugs",
                "MUG",
                (60, 100, 150),
                [
                    ("Stoneware Blue", "Reactive blue glaze, each one different."),
                    ("Speckled Cream", "Cream glaze flecked with iron."),
                    ("Charcoal", "Deep charcoal with a satin finish."),
                    ("Terracotta", "Warm terracotta, unglazed outside."),
                    ("Sea Glass", "A pale green-blue glaze."),
                    ("Mustard", "Sunny mustard yellow."),
                ],
                [
                    (
                        "{v} Mug 350 ml",
                        12,
                        22,
                        "Microwave and dishwasher safe. {about}",
                    ),
                    (
                        "{v} Espresso Cup 90 ml",
                        8,
                        14,
                        "With a thick wall that keeps it hot. {about}",
                    ),
                    (
                        "{v} Latte Bowl",
                        14,
                        24,
                        "For the slow weekend breakfast. {about}",
                    ),
                    (
                        "{v} Travel Mug 400 ml",
                        18,
                        32,
                        "Leak-proof lid, double-walled. {about}",
                    ),
                    ("{v} Cup & Saucer", 14, 26, "A classic 200 ml cup. {about}"),
                    ("{v} Mug Set of 4", 40, 70, "Four mugs, gift boxed. {about}"),
                ],
            ),
            (
                "Storage",
                "kitchen-storage",
                "STO",
                (120, 120, 120),
                [
                    ("Airtight", "A silicone seal keeps air out."),
                    ("Vacuum", "Pushes the air out as it closes."),
                    ("Glass", "See what is left at a glance."),
                    ("Steel", "Brushed stainless steel, keeps light out."),
                    ("Ceramic", "Glazed stoneware with a bamboo lid."),
                    ("Tin", "Printed tinplate, made to last."),
                ],
                [
                    (
                        "{v} Coffee Canister 500 g",
                        16,
                        32,
                        "Holds a bag of beans. {about}",
                    ),
                    ("{v} Tea Caddy 150 g", 12, 24, "For loose leaf tea. {about}"),
                    ("{v} Canister 1 kg", 22, 40, "For the kilo bag. {about}"),
                    (
                        "{v} Spice Jar Set of 6",
                        18,
                        34,
                        "Six small jars with labels. {about}",
                    ),
                    (
                        "{v} Storage Jar 1 L",
                        10,
                        20,
                        "For sugar, biscuits or beans. {about}",
                    ),
                    ("{v} Canister Trio", 30, 55, "Coffee, tea and sugar. {about}"),
                ],
            ),
        ],
    ),
    (
        "Treats",
        "treats",
        "Something sweet to go with the cup.",
        [
            (
                "Biscuits",
                "treats-biscuits",
                "BIS",
                (190, 140, 80),
                [
                    ("Shortbread", "Buttery and crumbly, baked in Scotland."),
                    ("Almond", "With toasted flaked almonds."),
                    ("Oat & Raisin", "Chewy oats and plump raisins."),
                    ("Ginger", "With stem ginger and a snap."),
                    ("Chocolate Chip", "Dark chocolate chunks in every bite."),
                    ("Lemon", "Zesty lemon with a sugar crust."),
                ],
                [
                    ("{v} Biscuits 200 g", 3, 6, "Baked in small batches. {about}"),
                    ("{v} Biscuit Tin 400 g", 8, 15, "A tin for sharing. {about}"),
                    ("{v} Biscotti 150 g", 4, 7, "Twice-baked, for dipping. {about}"),
                    ("Mini {v} Bites 100 g", 2, 4, "Bite-sized. {about}"),
                    ("{v} Snack Packs x6", 5, 8, "Six packs of two biscuits. {about}"),
                    (
                        "Gluten-Free {v} Biscuits 150 g",
                        4,
                        7,
                        "Made without gluten. {about}",
                    ),
                ],
            ),
            (
                "Chocolate",
                "treats-chocolate",
                "CHO",
                (80, 45, 40),
                [
                    ("70% Dark", "Single origin cocoa, fruity and deep."),
                    ("Milk", "Creamy, with 38% cocoa."),
                    ("Sea Salt", "Dark chocolate with flakes of sea salt."),
                    ("Hazelnut", "With whole roasted hazelnuts."),
                    ("Orange", "With candied orange peel."),
                    ("Raspberry", "With freeze-dried raspberries."),
                ],
                [
                    ("{v} Chocolate Bar 100 g", 3, 6, "Made from bean to bar. {about}"),
                    (
                        "{v} Chocolate Buttons 150 g",
                        4,
                        7,
                        "For snacking or baking. {about}",
                    ),
                    ("{v} Truffles x12", 10, 18, "Hand-rolled truffles. {about}"),
                    (
                        "{v} Drinking Chocolate 300 g",
                        7,
                        12,
                        "Flakes that melt into hot milk. {about}",
                    ),
                    (
                        "{v} Chocolate Coffee Beans 100 g",
                        4,
                        7,
                        "Roasted beans in chocolate. {about}",
                    ),
                    (
                        "{v} Chocolate Gift Box",
                        14,
                        28,
                        "A box of assorted pieces. {about}",
                    ),
                ],
            ),
            (
                "Syrups & Sweeteners",
                "treats-syrups",
                "SYR",
                (170, 120, 60),
                [
                    ("Vanilla", "Made with Madagascar vanilla."),
                    ("Caramel", "Rich, buttery caramel."),
                    ("Hazelnut", "Toasty hazelnut flavour."),
                    ("Maple", "A hint of Canadian maple."),
                    ("Cinnamon", "Warm cinnamon spice."),
                    ("Gingerbread", "The taste of the holidays."),
                ],
                [
                    ("{v} Syrup 250 ml", 5, 8, "Two pumps flavour a latte. {about}"),
                    ("{v} Syrup 1 L", 12, 18, "The barista bottle. {about}"),
                    (
                        "Sugar-Free {v} Syrup 250 ml",
                        5,
                        8,
                        "Sweetened without sugar. {about}",
                    ),
                    ("{v} Sugar 500 g", 3, 6, "Flavoured cane sugar. {about}"),
                    ("{v} Syrup Trio", 12, 20, "Three 250 ml bottles. {about}"),
                    (
                        "{v} Syrup Pump",
                        3,
                        5,
                        "Fits our 250 ml and 1 L bottles. {about}",
                    ),
                ],
            ),
        ],
    ),
    (
        "Gifts",
        "gifts",
        "Gift sets and things for the coffee and tea lover.",
        [
            (
                "Gift Sets",
                "gifts-sets",
                "GFT",
                (160, 60, 90),
                [
                    ("Coffee Lover's", "Three coffees and a mug."),
                    ("Tea Time", "Three teas and a caddy."),
                    ("Barista", "Beans, a milk jug and syrups."),
                    ("Morning Ritual", "Coffee, a dripper and biscuits."),
                    ("Chocolate & Coffee", "Chocolate and a coffee to match."),
                    ("Explorer", "Six origins to taste side by side."),
                ],
                [
                    ("{v} Gift Box", 25, 45, "Wrapped, with a card. {about}"),
                    ("{v} Hamper", 45, 90, "A wicker hamper. {about}"),
                    ("Deluxe {v} Set", 60, 120, "The full set, gift boxed. {about}"),
                    ("{v} Mini Set", 15, 25, "A small taste. {about}"),
                    (
                        "{v} Advent Calendar",
                        30,
                        50,
                        "Twenty-four doors to open. {about}",
                    ),
                    (
                        "{v} Subscription, 3 Months",
                        45,
                        75,
                        "A parcel every month. {about}",
                    ),
                ],
            ),
            (
                "Accessories",
                "gifts-accessories",
                "ACC",
                (100, 110, 90),
                [
                    ("Linen", "Stonewashed European linen."),
                    ("Cork", "Natural Portuguese cork."),
                    ("Walnut", "Oiled solid walnut."),
                    ("Leather", "Vegetable-tanned leather."),
                    ("Cotton", "Heavy organic cotton."),
                    ("Enamel", "Enamelled steel with a rolled rim."),
                ],
                [
                    ("{v} Coaster Set", 10, 20, "A set of four. {about}"),
                    ("{v} Tea Towel", 8, 14, "Thirsty and quick to dry. {about}"),
                    ("{v} Serving Tray", 25, 45, "For a pot and four cups. {about}"),
                    (
                        "{v} Barista Apron",
                        25,
                        48,
                        "With a pocket for the tamper. {about}",
                    ),
                    ("{v} Tote Bag", 12, 22, "Carries a week's shopping. {about}"),
                    ("{v} Bean Scoop", 6, 12, "One scoop, one cup. {about}"),
                ],
            ),
        ],
    ),
]

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
        subcategory
        for _name, _slug, _description, subcategories in CATALOG
        for subcategory in subcategories
    ]


def capacity():
    """How many different products the demo catalog holds."""
    return sum(
        len(variants) * len(kinds)
        for _name, _slug, _code, _colour, variants, kinds in subcategories()
    )


def demo_products(count):
    """The first `count` demo products, spread evenly over the subcategories.

    Product n is the same in every run: its subcategory is n modulo the
    subcategories, its place there a fixed shuffle of the kinds and variants,
    and its price and stock come from a generator seeded with its SKU.
    """
    leaves = subcategories()
    orders = []
    for _name, slug, _code, _colour, variants, kinds in leaves:
        combinations = [(k, v) for k in range(len(kinds)) for v in range(len(variants))]
        random.Random(slug).shuffle(combinations)
        orders.append(combinations)
    products = []
    for n in range(count):
        place, index = divmod(n, len(leaves))
        _name, slug, code, colour, variants, kinds = leaves[index]
        kind, variant = orders[index][place]
        kind_name, low, high, about_kind = kinds[kind]
        variant_name, about_variant = variants[variant]
        sku = f"{code}-{kind + 1:02d}{variant + 1:02d}"
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
                category_slug=slug,
                colour=_shade(colour, variant),
            )
        )
    return products


def _shade(colour, step):
    return tuple(min(255, channel + 14 * step) for channel in colour)


def ensure_categories():
    """Create the demo categories that are missing; return (by slug, created)."""
    found = {category.slug: category for category in Category.objects.all()}
    created = 0
    for position, (name, slug, description, subcategories) in enumerate(CATALOG):
        if slug not in found:
            found[slug] = Category.objects.create(
                name=name, slug=slug, description=description, position=position
            )
            created += 1
        for sub_position, (sub_name, sub_slug, *_rest) in enumerate(subcategories):
            if sub_slug not in found:
                found[sub_slug] = Category.objects.create(
                    name=sub_name,
                    slug=sub_slug,
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
    if created:
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
                cart=cart, product=for_sale[number], quantity=quantity
            )
        order = order_services.place_order(
            user=customer, shipping_address=SHIPPING_ADDRESS, idempotency_key=key
        ).order
        for step in steps:
            _advance(order, step, customer=customer, staff=staff)
        created += 1
    return created


def _advance(order, step, *, customer, staff):
    if step == "pay" and isinstance(get_gateway(), TestCardGateway):
        order_services.pay_order(
            order=order,
            user=customer,
            payment_method="test-card",
            card_number=TestCardGateway.APPROVED_NUMBER,
        )
    elif step == "pay":
        order_services.change_order_status(
            order=order, status=Order.Status.PAID, user=staff, note="Demo payment"
        )
    elif step == "decline" and isinstance(get_gateway(), TestCardGateway):
        # The attempt stays recorded; the order awaits payment.
        with contextlib.suppress(PaymentDeclined):
            order_services.pay_order(
                order=order,
                user=customer,
                payment_method="test-card",
                card_number=TestCardGateway.DECLINED_NUMBER,
            )
    elif step == "cancel":
        order_services.cancel_order(
            order=order, user=customer, note="Ordered the wrong size"
        )
    elif step in (Order.Status.SHIPPED, Order.Status.DELIVERED):
        order_services.change_order_status(order=order, status=step, user=staff)
