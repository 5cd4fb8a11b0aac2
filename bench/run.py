#!/usr/bin/env python
"""The store's speed, measured side by side with the framework's floor.

    make bench                          # or: .venv/bin/python bench/run.py
    make bench-memory                   # worker memory over 100,000 requests
    .venv/bin/python bench/run.py --smoke   # CI: every scenario briefly

What it does, in under ten minutes on a two-core machine:

1. Recreates its own PostgreSQL database (BENCH_DATABASE_URL, default
   `shopswift_bench`: its name must contain "bench") and empties its two Redis
   databases (the cache and the Celery broker), migrates, collects the static
   files, and seeds a catalog in bulk (10,000 products in 50 categories, no
   images, each product's initial stock recorded in the ledger) and the
   customers the scenarios need: carts to read, carts to add to, buyers with
   ready carts for the checkouts, and accounts that log in.
2. Starts the store with deploy/gunicorn.conf.py and its production settings
   (DJANGO_DEBUG=false, plain HTTP, a generated secret key, two workers, the
   access log written as in production), and beside it bench/bare.py, one
   Django view with no middleware, served by gunicorn the same way.
3. Measures every scenario with wrk (bench/wrk/plan.lua) at a fixed number of
   connections: a warm-up, then rounds taken in turn (round 1 of every
   scenario, then round 2, ...), so that a change in the machine's load
   touches every scenario alike. Each scenario's figure is the median of its
   rounds' requests/s, and its ratio is that figure over the floor's: the
   store's own /healthz through the whole middleware stack, measured in the
   same run.
4. Checks what must hold whatever the speed: no oversold unit (each product's
   stock plus the units sold equals its starting stock), the stock ledger
   (`reconcile_stock`), no deadlock (pg_stat_database), no 5xx, no response
   outside each scenario's expected statuses, no socket error.
5. Writes bench/results/<date>.json and .md and bench/results/latest.md, and
   prints the table with the machine's CPU, cores and load. Speed targets are
   reported, never enforced; the exit status is non-zero only when a
   correctness check fails.

The figures are only as steady as the machine: run it when nothing else
runs (the load is printed with the results; above about 1 on two cores the
figures are noise).
"""

import argparse
import csv
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import servers
from servers import CHECKOUT_BODY, ROOT, ensure_pricing_rules

VOUCHER_CODE = "BENCH10"

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PLAN_SCRIPT = BENCH / "wrk" / "plan.lua"
GUNICORN = Path(sys.executable).with_name("gunicorn")

PASSWORD = "bench-login-Passw0rd!"  # the login scenario's accounts only
WORDS = [
    "cotton",
    "linen",
    "wool",
    "denim",
    "leather",
    "canvas",
    "steel",
    "oak",
    "walnut",
    "bamboo",
    "ceramic",
    "glass",
    "copper",
    "brass",
    "marble",
    "velvet",
    "silk",
    "organic",
    "vintage",
    "classic",
    "modern",
    "rustic",
    "compact",
    "portable",
    "foldable",
    "waterproof",
]
NOUNS = [
    "shirt",
    "jacket",
    "lamp",
    "chair",
    "table",
    "mug",
    "bowl",
    "kettle",
    "backpack",
    "wallet",
    "notebook",
    "pen",
    "speaker",
    "blanket",
    "pillow",
    "rug",
    "vase",
    "clock",
    "candle",
    "basket",
]

# The options of a product with several variants (--variants): a size each,
# and one colour for all of them.
SIZES = ["S", "M", "L", "XL", "XXL"]
COLOURS = ["Black", "White", "Navy", "Red", "Green", "Grey"]


# --- Options ----------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/shopswift_bench",
        help="a database of the benchmark's own: it is dropped and recreated",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/13",
        help="the store's cache (emptied at the start)",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_BROKER_URL") or "redis://127.0.0.1:6379/12",
        help="Celery's broker, where the order emails wait (emptied)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BENCH_PORT") or 18600),
        help="the store's port; the bare app listens on the next one",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds a round")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of each read scenario first"
    )
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--categories", type=int, default=50)
    parser.add_argument(
        "--variants",
        type=int,
        default=3,
        choices=range(1, len(SIZES) + 1),
        metavar=f"1..{len(SIZES)}",
        help="variants a product (more than one: sizes, each product in one colour)",
    )
    parser.add_argument(
        "--buyers",
        type=int,
        default=2500,
        help="buyers with a ready cart, per checkout scenario and round",
    )
    parser.add_argument(
        "--hot-stock",
        type=int,
        default=1000,
        help="units of the product that every buyer of a contention round wants",
    )
    parser.add_argument(
        "--only", help="comma-separated scenario names (the floors always run)"
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="instead of the scenarios: worker memory over --memory-requests",
    )
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument(
        "--import-rows",
        type=int,
        default=50_000,
        help="rows of the timed import_products at the end (0: none)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="seed, start both servers and wait (for profiling: py-spy record "
        "--pid <worker>) until interrupted; the plan files are in the printed folder",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI's short form: a small catalog, one short round, no files written",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="print the table, write no files"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rounds = 1
        args.duration = 1
        args.warmup = 1
        args.products = min(args.products, 500)
        args.categories = min(args.categories, 10)
        args.buyers = min(args.buyers, 300)
        args.hot_stock = min(args.hot_stock, 100)
        args.import_rows = min(args.import_rows, 500)
        args.no_save = True
    name = urlsplit(args.database_url).path.lstrip("/")
    if "bench" not in name:
        parser.error(
            f"the benchmark drops and recreates its database; {name!r} does not "
            "look like one of its own (the name must contain 'bench')"
        )
    if args.categories < 5 or args.products < args.categories * 2:
        parser.error("at least 5 categories and two products per category")
    return args


# --- Scenarios ----------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    title: str
    server: str = "store"  # or "bare"
    target: float | None = None  # ratio to the floor
    expected: frozenset = frozenset({200})
    mode: str = "cycle"  # or "once": each plan line is sent once, per round
    read: bool = True  # a p99 bound (p99_ms) applies to reads' latency round
    p99_ms: float = 25
    cached: bool = False  # warmed up before each round
    uncached: bool = False  # the catalog version is replaced before each round
    note: str = ""
    plans: list = field(default_factory=list)  # one plan file per round
    rounds: list = field(default_factory=list)
    latency: dict | None = None  # the round with one request in flight per worker


def scenarios(args):
    ok = frozenset({200})
    return [
        Scenario(
            "bare",
            "Bare Django view, no middleware (bench/bare.py)",
            server="bare",
            note="the framework's own floor on this machine",
        ),
        Scenario(
            "floor",
            "/healthz, the floor (whole middleware stack)",
            target=0.70,
            note="ratio to the bare view",
        ),
        Scenario(
            "products",
            "Product list, default page (anonymous)",
            target=0.60,
            cached=True,
        ),
        Scenario(
            "products_not_modified",
            "Product list, conditional GET (If-None-Match → 304)",
            cached=True,
            expected=frozenset({304}),
            note="a client that holds the current page",
        ),
        Scenario(
            "products_filtered",
            "Product list, filtered: category + min_price + ordering (uncached)",
            target=0.20,
            uncached=True,
            note="every request a different filter after a catalog change",
        ),
        Scenario(
            "products_search",
            "Product list, searched: one word (uncached)",
            target=0.20,
            uncached=True,
            note="every request a different word after a catalog change",
        ),
        Scenario(
            "products_search_typo",
            "Product list, searched: one mistyped word (uncached)",
            uncached=True,
            note="full text finds nothing, the typo tolerance answers",
        ),
        Scenario(
            "facets",
            "Product facets: category, search or price filters (uncached)",
            uncached=True,
            p99_ms=50,
            note="every request a different filter after a catalog change",
        ),
        Scenario(
            "product",
            "Product detail (cached)",
            target=0.60,
            cached=True,
            note="500 products, read in turn",
        ),
        Scenario(
            "product_uncached",
            "Product detail (uncached)",
            target=0.30,
            uncached=True,
            note="every request a product not read since a catalog change",
        ),
        Scenario("categories", "Category list", target=0.60, cached=True),
        Scenario(
            "page_catalog",
            "Catalog page /products/ (HTML)",
            target=0.40,
            cached=True,
        ),
        Scenario(
            "page_product",
            "Product page /products/<slug>/ (HTML)",
            target=0.40,
            cached=True,
            note="500 products, read in turn",
        ),
        Scenario(
            "cart",
            "Cart read (JWT, 3 lines)",
            target=0.25,
            note="8 customers in turn",
        ),
        Scenario(
            "cart_add",
            "Add to cart (JWT)",
            expected=frozenset({201}),
            read=False,
            note="800 customers in turn, 2 products each",
        ),
        Scenario(
            "checkout",
            "Checkout, two-line cart, distinct buyers",
            target=0.05,
            expected=frozenset({201}),
            mode="once",
            read=False,
            note="each request a different buyer with a ready cart",
        ),
        Scenario(
            "checkout_contention",
            "Checkout, every buyer wants the same product",
            expected=frozenset({201, 409}),
            mode="once",
            read=False,
            note=f"{args.hot_stock} units for {args.buyers} buyers a round; "
            "409 insufficient_stock once sold out",
        ),
        Scenario(
            "login",
            "Login (JWT pair, Argon2 password check)",
            expected=ok,
            read=False,
            note="successful logins: CPU-bound in Argon2",
        ),
    ]


# --- Small helpers ----------------------------------------------------------------


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def load():
    return [round(value, 2) for value in os.getloadavg()]


def database_figures(connection):
    """The server's version, its buffer cache and the seeded database's size.

    Whether the catalog fits in shared_buffers decides much of the catalog
    scenarios' figures at 100,000 products (docs/operations.md).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), "
            "current_setting('shared_buffers'), "
            "pg_size_pretty(pg_database_size(current_database()))"
        )
        version, shared_buffers, size = cursor.fetchone()
    return {"version": version, "shared_buffers": shared_buffers, "size": size}


def git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def recreate_database(url):
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def empty_redis(*urls):
    import redis

    for url in urls:
        redis.Redis.from_url(url).flushdb()


def deadlocks(url):
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as connection:
        # Statistics reach the view when a backend reports them, within a second.
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return row[0] if row else 0


# --- Seeding --------------------------------------------------------------------


@dataclass
class Seeded:
    categories: list  # slugs
    products: list  # (id, slug)
    starting_stock: dict  # product id -> units
    cart_tokens: list
    add_lines: list  # (token, variant id)
    checkout_pools: list  # per round: [token]
    contention_pools: list  # per round: [token]
    hot_products: list  # per round: product id
    login_emails: list


def bench_options(product, count):
    """The option types of a bench product with `count` variants (none for one)."""
    if count == 1:
        return []
    return [("Size", SIZES[:count]), ("Colour", [COLOURS[product.pk % len(COLOURS)]])]


def bench_variants(product, count):
    """A bench product's variants: its default one, or one a size, a step dearer."""
    from catalog.models import ProductVariant

    if count == 1:
        return [
            ProductVariant(
                product=product,
                sku=product.sku,
                price=product.price,
                stock=product.stock,
            )
        ]
    (_, sizes), (_, (colour,)) = bench_options(product, count)
    return [
        ProductVariant(
            product=product,
            sku=f"{product.sku}-{size}",
            options={"Size": size, "Colour": colour},
            price=Decimal(product.price) + position,
            stock=product.stock,
            position=position,
        )
        for position, size in enumerate(sizes)
    ]


def seed(args):
    """Create the catalog and the customers in bulk, in one transaction.

    Products and their variants (--variants a product) are bulk-inserted,
    each variant's initial stock recorded as its first StockMovement, as
    catalog.services records it, so that `reconcile_stock` holds from the
    start; the products' price, stock and search terms are then refreshed
    from their variants by the service that keeps them. The catalog
    QuerySets' bulk_create replaces the cache version when the transaction
    commits.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from carts.models import Cart, CartItem
    from catalog.models import (
        Category,
        Product,
        ProductOption,
        ProductVariant,
        StockMovement,
    )
    from catalog.services import refresh_aggregates
    from pricing.models import Voucher

    ensure_pricing_rules()
    rng = random.Random(8)
    stock = 1000
    with transaction.atomic():
        tops = Category.objects.bulk_create(
            Category(name=f"Department {n}", slug=f"department-{n}", position=n)
            for n in range(1, args.categories // 5 + 1)
        )
        subs = Category.objects.bulk_create(
            Category(
                name=f"{parent.name} aisle {n}",
                slug=f"{parent.slug}-aisle-{n}",
                parent=parent,
                position=n,
            )
            for parent in tops
            for n in range(1, 5)
        )
        categories = tops + subs
        products = Product.objects.bulk_create(
            Product(
                sku=f"BENCH-{n:06d}",
                name=f"{rng.choice(WORDS).title()} {rng.choice(NOUNS)} {n}",
                slug=f"bench-product-{n}",
                description=" ".join(rng.choices(WORDS, k=12))
                + f". Model {n}, made to last.",
                price=f"{rng.randint(199, 49_999) / 100:.2f}",
                stock=stock,
                category=categories[n % len(categories)],
            )
            for n in range(1, args.products + 1)
        )
        hot_products = Product.objects.bulk_create(
            Product(
                sku=f"BENCH-HOT-{n}",
                name=f"Limited edition {n}",
                slug=f"bench-hot-{n}",
                price="24.99",
                stock=args.hot_stock,
                category=tops[0],
            )
            for n in range(1, args.rounds + 1)
        )
        # The hot products have one variant: every buyer wants its units.
        variants = ProductVariant.objects.bulk_create(
            variant
            for product in hot_products
            for variant in bench_variants(product, 1)
        )
        variants += ProductVariant.objects.bulk_create(
            (
                variant
                for product in products
                for variant in bench_variants(product, args.variants)
            ),
            batch_size=5000,
        )
        variant_of = {}
        for variant in variants:
            variant_of.setdefault(variant.product_id, variant)
        if args.variants > 1:
            ProductOption.objects.bulk_create(
                (
                    ProductOption(product=product, name=name, values=values, position=n)
                    for product in products
                    for n, (name, values) in enumerate(
                        bench_options(product, args.variants)
                    )
                ),
                batch_size=5000,
            )
        StockMovement.objects.bulk_create(
            (
                StockMovement(
                    product_id=variant.product_id,
                    variant=variant,
                    sku=variant.sku,
                    quantity=variant.stock,
                    stock_after=variant.stock,
                    reason=StockMovement.Reason.INITIAL,
                    reference="bench seed",
                )
                for variant in variants
            ),
            batch_size=5000,
        )
        # Each product's price, stock and search terms, from its variants.
        ids = [product.pk for product in products + hot_products]
        for start in range(0, len(ids), 5000):
            refresh_aggregates(ids[start : start + 5000])
        starting_stock = dict(
            Product.objects.filter(sku__startswith="BENCH-").values_list("pk", "stock")
        )

        def customers(prefix, count, password="!"):
            return User.objects.bulk_create(
                User(email=f"{prefix}-{n}@bench.example", password=password)
                for n in range(count)
            )

        cart_users = customers("cart", 8)
        add_users = customers("add", 800)
        checkout_pools = [
            customers(f"buyer-r{r}", args.buyers) for r in range(args.rounds)
        ]
        contention_pools = [
            customers(f"hot-r{r}", args.buyers) for r in range(args.rounds)
        ]
        # One Argon2 hash for every login account: hashing once per account
        # would take longer than the scenario.
        login_users = customers("login", 8, password=make_password(PASSWORD))

        everyone = cart_users + add_users + login_users
        for pool in checkout_pools + contention_pools:
            everyone += pool
        carts = {
            cart.user_id: cart
            for cart in Cart.objects.bulk_create(Cart(user=user) for user in everyone)
        }
        items = []
        for user in cart_users:
            items += [
                CartItem(
                    cart=carts[user.pk], variant=variant_of[product.pk], quantity=1 + n
                )
                for n, product in enumerate(rng.sample(products, 3))
            ]
        for pool in checkout_pools:
            for user in pool:
                items += [
                    CartItem(
                        cart=carts[user.pk], variant=variant_of[product.pk], quantity=1
                    )
                    for product in rng.sample(products, 2)
                ]
        for pool, hot in zip(contention_pools, hot_products, strict=True):
            items += [
                CartItem(cart=carts[user.pk], variant=variant_of[hot.pk], quantity=1)
                for user in pool
            ]
        # Every buyer brings a voucher (10 % off, enough uses for them all):
        # each checkout takes a use by its conditional update.
        buyers = [user for pool in checkout_pools + contention_pools for user in pool]
        voucher = Voucher.objects.create(
            code=VOUCHER_CODE, kind="percentage", value=10, usage_limit=len(buyers)
        )
        Cart.objects.filter(user__in=buyers).update(voucher=voucher)
        CartItem.objects.bulk_create(items, batch_size=5000)

    def tokens(users):
        return [str(AccessToken.for_user(user)) for user in users]

    add_lines = []
    for token in tokens(add_users):
        add_lines += [
            (token, variant_of[product.pk].pk) for product in rng.sample(products, 2)
        ]
    return Seeded(
        categories=[category.slug for category in categories],
        products=[(product.pk, product.slug) for product in products],
        starting_stock=starting_stock,
        cart_tokens=tokens(cart_users),
        add_lines=add_lines,
        checkout_pools=[tokens(pool) for pool in checkout_pools],
        contention_pools=[tokens(pool) for pool in contention_pools],
        hot_products=[product.pk for product in hot_products],
        login_emails=[user.email for user in login_users],
    )


# --- Plans: the requests of each scenario, for bench/wrk/plan.lua ----------------


def plan_line(method, path, token="-", key="-", body=None):
    text = "-" if body is None else json.dumps(body, separators=(",", ":"))
    return f"{method}\t{path}\t{token}\t{key}\t{text}\n"


def write_plan(folder, name, lines):
    path = folder / f"{name}.plan"
    path.write_text("".join(lines))
    return path


def mistype(rng, word):
    """The word with one letter doubled, dropped or swapped with the next."""
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["double", "drop", "swap"])
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def build_plans(args, seeded, folder, all_scenarios):
    rng = random.Random(9)
    slugs = [slug for _, slug in seeded.products]
    popular = slugs[:500]
    filters = [
        urlencode({"category": category, "min_price": low, "ordering": "price"})
        for low in range(0, 400)
        for category in seeded.categories
    ]
    rng.shuffle(filters)
    searches = [f"{word}" for word in WORDS] + [
        f"{word} {noun}" for word in WORDS for noun in NOUNS
    ]
    searches += [f"model {n}" for n in range(1, args.products + 1)]
    rng.shuffle(searches)
    typos = [
        mistype(rng, word)
        for word in WORDS + NOUNS
        if len(word) >= 5
        for _ in range(20)
    ]
    facet_filters = [
        urlencode({"category": category}) for category in seeded.categories
    ] + [urlencode({"search": word}) for word in WORDS + NOUNS]
    facet_filters += [
        urlencode({"min_price": low, "max_price": low + 50, "in_stock": "true"})
        for low in range(0, 400)
    ]
    if args.variants > 1:
        facet_filters += [
            urlencode({"option": f"Size:{size}", "category": category})
            for size in SIZES[: args.variants]
            for category in seeded.categories
        ]
    rng.shuffle(facet_filters)
    checkout_body = CHECKOUT_BODY

    def same_each_round(lines):
        return [lines] * args.rounds

    lines = {
        "bare": same_each_round([plan_line("GET", "/healthz")]),
        "floor": same_each_round([plan_line("GET", "/healthz")]),
        "products": same_each_round([plan_line("GET", "/api/v1/products/")]),
        "products_not_modified": same_each_round(
            [plan_line("GET", "/api/v1/products/", key="-")]
        ),
        "products_filtered": same_each_round(
            [plan_line("GET", f"/api/v1/products/?{query}") for query in filters]
        ),
        "products_search": same_each_round(
            [
                plan_line("GET", f"/api/v1/products/?{urlencode({'search': words})}")
                for words in searches
            ]
        ),
        "products_search_typo": same_each_round(
            [
                plan_line("GET", f"/api/v1/products/?{urlencode({'search': word})}")
                for word in typos
            ]
        ),
        "facets": same_each_round(
            [
                plan_line("GET", f"/api/v1/products/facets/?{query}")
                for query in facet_filters
            ]
        ),
        "product": same_each_round(
            [plan_line("GET", f"/api/v1/products/{slug}/") for slug in popular]
        ),
        "product_uncached": same_each_round(
            [plan_line("GET", f"/api/v1/products/{slug}/") for slug in slugs]
        ),
        "categories": same_each_round([plan_line("GET", "/api/v1/categories/")]),
        "page_catalog": same_each_round([plan_line("GET", "/products/")]),
        "page_product": same_each_round(
            [plan_line("GET", f"/products/{slug}/") for slug in popular]
        ),
        "cart": same_each_round(
            [plan_line("GET", "/api/v1/cart/", token) for token in seeded.cart_tokens]
        ),
        "cart_add": same_each_round(
            [
                plan_line(
                    "POST",
                    "/api/v1/cart/items/",
                    token,
                    body={"variant": variant, "quantity": 1},
                )
                for token, variant in seeded.add_lines
            ]
        ),
        "checkout": [
            [
                plan_line("POST", "/api/v1/orders/", token, uuid.uuid4(), checkout_body)
                for token in pool
            ]
            for pool in seeded.checkout_pools
        ],
        "checkout_contention": [
            [
                plan_line("POST", "/api/v1/orders/", token, uuid.uuid4(), checkout_body)
                for token in pool
            ]
            for pool in seeded.contention_pools
        ],
        "login": same_each_round(
            [
                plan_line(
                    "POST",
                    "/api/v1/auth/token/",
                    body={"email": email, "password": PASSWORD},
                )
                for email in seeded.login_emails
            ]
        ),
    }
    for scenario in all_scenarios:
        scenario.plans = [
            write_plan(folder, f"{scenario.name}-{number}", round_lines)
            for number, round_lines in enumerate(lines[scenario.name], start=1)
        ]


# --- Servers ------------------------------------------------------------------------


def port_in_use(port):
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_server(environment, port, app, log_path):
    if port_in_use(port):
        raise SystemExit(
            f"Port {port} is taken (an earlier run still stopping?); "
            "pass --port or BENCH_PORT"
        )
    command = [str(GUNICORN), "-c", str(ROOT / "deploy/gunicorn.conf.py")]
    if app:
        command.append(app)
    log = open(log_path, "w")  # noqa: SIM115 (outlives this function)
    return servers.start_gunicorn(
        command,
        cwd=ROOT,
        environment={**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        port=port,
        log=log,
    )


def worker_pids(server):
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in children.split()]


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


# --- wrk ------------------------------------------------------------------------


def run_wrk(args, port, plan, mode, seconds, headers=(), connections=None):
    connections = connections or args.connections
    threads = min(args.wrk_threads, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(PLAN_SCRIPT),
    ]
    for header in headers:
        command += ["-H", header]
    command += [f"http://127.0.0.1:{port}", "--", str(plan), str(threads)]
    command.append(mode)
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in finished.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise SystemExit(
        f"wrk gave no result (exit {finished.returncode}):\n"
        f"{finished.stdout}\n{finished.stderr}"
    )


def round_figures(result, scenario):
    statuses = {int(status): count for status, count in result["statuses"].items()}
    socket_errors = sum(result["socket_errors"].values())
    unexpected = sum(
        count for status, count in statuses.items() if status not in scenario.expected
    )
    seconds = result["duration_us"] / 1e6
    return {
        "requests": result["requests"],
        "seconds": round(seconds, 2),
        "rps": round(result["requests"] / seconds, 1),
        "p50_ms": round(result["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(result["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(result["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(result["latency_us"]["max"] / 1000, 2),
        "statuses": {str(s): c for s, c in sorted(statuses.items())},
        "server_errors": sum(c for s, c in statuses.items() if s >= 500),
        "socket_errors": socket_errors,
        "errors": unexpected + socket_errors,
        "repeated": result["repeated"],
        "load": load()[0],
    }


# --- The run ------------------------------------------------------------------------


def bump_catalog_version():
    from catalog import cache

    cache.bump()


def fetch(port, path, headers=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def fill_cache(port, plan):
    """Read every path of a cached scenario once, so that its round only hits."""
    paths = {line.split("\t")[1] for line in plan.read_text().splitlines() if line}
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda path: fetch(port, path), sorted(paths)))


def prepare_conditional_plan(port, scenario):
    """Give the conditional scenario the product list's current ETag."""
    status, headers, _ = fetch(port, "/api/v1/products/")
    etag = headers.get("ETag")
    if status != 200 or not etag:
        return None
    return [f"If-None-Match: {etag}"]


def measure(args, servers, all_scenarios):
    ports = {"store": args.port, "bare": args.port + 1}

    def run(scenario, round_number, seconds, connections=None):
        headers = ()
        if scenario.name == "products_not_modified":
            headers = prepare_conditional_plan(args.port, scenario)
            if headers is None:
                return None
        plan = scenario.plans[min(round_number, len(scenario.plans) - 1)]
        return run_wrk(
            args,
            ports[scenario.server],
            plan,
            scenario.mode,
            seconds,
            headers,
            connections,
        )

    def prepare(scenario):
        if scenario.uncached:
            bump_catalog_version()
        elif scenario.cached:
            fill_cache(ports[scenario.server], scenario.plans[0])

    say(f"Warming up: {args.warmup} s of every read scenario ...")
    for scenario in all_scenarios:
        if scenario.read:
            run(scenario, 0, args.warmup)

    for round_number in range(args.rounds):
        say(f"Round {round_number + 1} of {args.rounds} (load {load()[0]})")
        for scenario in all_scenarios:
            prepare(scenario)
            result = run(scenario, round_number, args.duration)
            if result is None:
                scenario.rounds.append(None)
                say(f"  {scenario.name:<24} skipped: the store sends no ETag")
                continue
            figures = round_figures(result, scenario)
            scenario.rounds.append(figures)
            say(
                f"  {scenario.name:<24} {figures['rps']:>8.1f} req/s"
                f"  p50 {figures['p50_ms']:>6.2f} ms  p99 {figures['p99_ms']:>6.2f} ms"
                f"  statuses {figures['statuses']}"
                + (f"  errors {figures['errors']}" if figures["errors"] else "")
            )

    # The reads' latency: one request in flight per worker thread, so that
    # the p99 is the store's own time, not the wait behind the other
    # connections that the throughput rounds queue up on purpose.
    in_flight = args.workers * args.threads
    say(f"Latency round: {in_flight} connections (load {load()[0]})")
    for scenario in all_scenarios:
        if not scenario.read or scenario.name == "bare":
            continue
        # Once the workers have served what the last round left queued.
        for _ in range(in_flight):
            fetch(args.port, "/healthz")
        prepare(scenario)
        result = run(scenario, 0, args.duration, connections=in_flight)
        if result is None or not result["requests"]:
            continue
        scenario.latency = round_figures(result, scenario)
        say(
            f"  {scenario.name:<24} p50 {scenario.latency['p50_ms']:>6.2f} ms"
            f"  p99 {scenario.latency['p99_ms']:>6.2f} ms"
            f"  statuses {scenario.latency['statuses']}"
        )


def summarise(all_scenarios):
    by_name = {scenario.name: scenario for scenario in all_scenarios}
    summary = {}
    for scenario in all_scenarios:
        rounds = [figures for figures in scenario.rounds if figures]
        if not rounds:
            continue
        latency = [scenario.latency] if scenario.latency else []
        summary[scenario.name] = {
            "title": scenario.title,
            "note": scenario.note,
            "rps": round(statistics.median(r["rps"] for r in rounds), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 2),
            "p99_ms": max(r["p99_ms"] for r in rounds),
            "errors": sum(r["errors"] for r in rounds + latency),
            "server_errors": sum(r["server_errors"] for r in rounds + latency),
            "statuses": _add_statuses(rounds),
            "repeated": sum(r["repeated"] for r in rounds),
            "target": scenario.target,
            "read": scenario.read,
            "p99_bound_ms": scenario.p99_ms,
            "rounds": rounds,
            "latency": scenario.latency,
        }
    floor = summary.get("floor", {}).get("rps")
    bare = summary.get("bare", {}).get("rps")
    for name, line in summary.items():
        base = bare if name == "floor" else floor
        if base and name != "bare":
            line["ratio"] = round(line["rps"] / base, 3)
        else:
            line["ratio"] = None
        checks = []
        if line["target"] is not None and line["ratio"] is not None:
            checks.append(line["ratio"] >= line["target"])
        if line["latency"] is not None:
            checks.append(line["latency"]["p99_ms"] <= by_name[name].p99_ms)
        line["met"] = all(checks) if checks else None
    return summary


def _add_statuses(rounds):
    total = {}
    for figures in rounds:
        for status, count in figures["statuses"].items():
            total[status] = total.get(status, 0) + count
    return dict(sorted(total.items()))


def check_stock(seeded):
    """Oversells and ledger drift after the checkouts; raises nothing."""
    from io import StringIO

    from django.core.management import CommandError, call_command
    from django.db.models import Sum

    from catalog.models import Product
    from orders.models import Order, OrderItem
    from pricing.models import Voucher

    sold = dict(
        OrderItem.objects.values_list("product_id").annotate(units=Sum("quantity"))
    )
    oversold = drifted = 0
    for pk, stock in Product.objects.values_list("pk", "stock"):
        starting = seeded.starting_stock.get(pk, 0)
        units = sold.get(pk, 0)
        oversold += max(units - starting, 0)
        drifted += stock != starting - units
    try:
        call_command("reconcile_stock", stdout=StringIO())
        ledger = "balanced"
    except CommandError as error:
        ledger = str(error)
    hot_sold = [sold.get(pk, 0) for pk in seeded.hot_products]
    voucher = Voucher.objects.filter(code=VOUCHER_CODE).first()
    voucher_orders = Order.objects.filter(voucher=voucher).count() if voucher else 0
    overrun = 0
    if voucher is not None:
        limit = voucher.usage_limit or 0
        overrun = max(voucher_orders - limit, voucher.used_count - voucher_orders, 0)
    return {
        "voucher_orders": voucher_orders,
        "voucher_overrun": overrun,
        "units_sold": sum(sold.values()),
        "oversold_units": oversold,
        "products_off_the_books": drifted,
        "ledger": ledger,
        "hot_product_units_sold": hot_sold,
    }


def server_log_errors(log_path):
    """Lines of the server log that report an error (a traceback, a worker crash)."""
    errors = []
    for line in Path(log_path).read_text(errors="replace").splitlines():
        if '"level": "ERROR"' in line or "[ERROR]" in line or "Traceback" in line:
            errors.append(line[:300])
    return errors


# --- import_products ---------------------------------------------------------------


def time_import(args, environment, workdir):
    """Time `manage.py import_products` creating --import-rows new products."""
    if not (ROOT / "catalog/management/commands/import_products.py").exists():
        return {"note": "manage.py import_products does not exist yet"}
    path = workdir / "import.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["sku", "name", "price", "category", "stock", "description"])
        for n in range(args.import_rows):
            writer.writerow(
                [
                    f"IMPORT-{n:07d}",
                    f"Imported product {n}",
                    f"{n % 500 + 1}.99",
                    "imported",
                    n % 90,
                    f"Row {n} of the benchmark's import.",
                ]
            )
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_products",
            str(path),
            "--create-categories",
        ],
        cwd=ROOT,
        env={**environment, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = round(time.perf_counter() - start, 1)
    if done.returncode:
        return {
            "rows": args.import_rows,
            "error": (done.stderr or done.stdout).strip()[-500:],
        }
    return {"rows": args.import_rows, "seconds": seconds, "target_seconds": 60}


# --- Memory ---------------------------------------------------------------------------


def measure_memory(args, server, scenario):
    """RSS of each worker, sampled while wrk sends args.memory_requests requests."""
    pids = worker_pids(server)
    samples = []  # (requests so far, {pid: kib})
    done = 0
    chunk_seconds = 5
    say(
        f"Memory: {args.memory_requests} requests of {scenario.title!r}, "
        f"{len(pids)} workers sampled between chunks of {chunk_seconds} s"
    )
    samples.append((0, {pid: rss_kib(pid) for pid in pids}))
    errors = 0
    while done < args.memory_requests:
        result = run_wrk(args, args.port, scenario.plans[0], "cycle", chunk_seconds)
        figures = round_figures(result, scenario)
        done += figures["requests"]
        errors += figures["errors"]
        samples.append((done, {pid: rss_kib(pid) for pid in worker_pids(server)}))
        say(
            f"  {done:>7} requests  "
            + "  ".join(
                f"{pid}: {kib / 1024:.1f} MiB"
                for pid, kib in samples[-1][1].items()
                if kib
            )
        )
    half = [s for s in samples if s[0] >= done / 2]
    workers = {}
    for pid in pids:
        series = [s[1].get(pid) for s in half if s[1].get(pid)]
        if len(series) < 2:
            workers[pid] = {"replaced": True}
            continue
        start = series[0]
        workers[pid] = {
            "mid_mib": round(start / 1024, 1),
            "end_mib": round(series[-1] / 1024, 1),
            "max_drift": round(max(abs(v - start) for v in series) / start, 3),
        }
    flat = all(
        not worker.get("replaced") and worker["max_drift"] <= 0.10
        for worker in workers.values()
    )
    return {
        "scenario": scenario.name,
        "requests": done,
        "errors": errors,
        "samples": [
            {"requests": n, "rss_kib": {str(pid): kib for pid, kib in rss.items()}}
            for n, rss in samples
        ],
        "workers": {str(pid): worker for pid, worker in workers.items()},
        "flat": flat,
    }


# --- Report ---------------------------------------------------------------------


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def markdown(report):
    info = report["machine"]
    lines = [
        f"# ShopSwift benchmark, {report['date']}",
        "",
        f"Commit `{report['commit']}` · {info['cpu']}, {info['cores']} cores · "
        f"load {report['load_start']} at the start, {report['load_end']} at the "
        f"end (1, 5, 15 min) · gunicorn {report['settings']['workers']} workers x "
        f"{report['settings']['threads']} thread · wrk "
        f"{report['settings']['connections']} connections · "
        f"{report['settings']['rounds']} rounds of {report['settings']['duration']} s "
        f"· {report['settings']['products']} products in "
        f"{report['settings']['categories']} categories · PostgreSQL "
        f"{report['database']['version']}, shared_buffers "
        f"{report['database']['shared_buffers']}, database "
        f"{report['database']['size']}",
        "",
        "Requests/s and p50 are the median of the rounds, p99 the worst round's; "
        "the ratio is to the floor (`/healthz` through the store's middleware), "
        "and the floor's own ratio is to the bare Django view. Errors are "
        "responses outside the scenario's expected statuses plus socket errors. "
        "The reads' p99 bound is checked in a latency round of its own, with "
        'one request in flight per worker (p50 and p99 "alone"): the '
        "throughput rounds' p99 is mostly the wait behind the other connections.",
        "",
    ]
    if report["scenarios"]:
        lines += [
            "| scenario | req/s | p50 ms | p99 ms | p50 alone | p99 alone "
            "| errors | ratio | target | met |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
        ]
    for line in report["scenarios"].values():
        target = fmt(line["target"], ".2f")
        target = f"≥ {target}" if line["target"] is not None else "-"
        alone = line.get("latency") or {}
        if alone:
            target += f" · p99 alone ≤ {line.get('p99_bound_ms', 25):g}"
        met = {True: "yes", False: "**no**", None: "-"}[line["met"]]
        lines.append(
            f"| {line['title']} | {line['rps']:.1f} | {line['p50_ms']:.2f} | "
            f"{line['p99_ms']:.2f} | {fmt(alone.get('p50_ms'), '.2f')} | "
            f"{fmt(alone.get('p99_ms'), '.2f')} | {line['errors']} | "
            f"{fmt(line['ratio'], '.3f')} | {target} | {met} |"
        )
    checks = report["checks"]
    lines += [
        "",
        "## Correctness",
        "",
        f"- Orders with the buyers' voucher: {checks['voucher_orders']}; "
        f"beyond its limit: {checks['voucher_overrun']}\n"
        f"- Units sold: {checks['units_sold']}; oversold: "
        f"{checks['oversold_units']}; products whose stock ≠ starting - sold: "
        f"{checks['products_off_the_books']}; ledger: {checks['ledger']}.",
        f"- Contention: units sold of each round's hot product "
        f"({report['settings']['hot_stock']} on hand): "
        f"{checks['hot_product_units_sold']}.",
        f"- Deadlocks during the run: {checks['deadlocks']}; 5xx responses: "
        f"{checks['server_errors']}; server log errors: "
        f"{len(checks['server_log_errors'])}.",
    ]
    memory = report.get("memory")
    if memory:
        lines += ["", "## Worker memory", ""]
        lines.append(
            f"{memory['requests']} requests of `{memory['scenario']}`; RSS over "
            f"the last half, flat within ±10%: {'yes' if memory['flat'] else '**no**'}."
        )
        for pid, worker in memory["workers"].items():
            lines.append(
                f"- worker {pid}: {worker.get('mid_mib')} MiB at mid-run, "
                f"{worker.get('end_mib')} MiB at the end, largest drift "
                f"{fmt(worker.get('max_drift'), '.1%')}"
            )
    timing = report.get("import_products")
    if timing:
        lines += ["", "## import_products", ""]
        if "seconds" in timing:
            lines.append(
                f"`manage.py import_products` created {timing['rows']} products "
                f"(with their stock movements) in {timing['seconds']} s "
                f"(target: under {timing['target_seconds']} s)."
            )
        else:
            lines.append(timing.get("note") or f"Failed: {timing.get('error')}")
    return "\n".join(lines) + "\n"


def write_report(report):
    RESULTS.mkdir(exist_ok=True)
    stamp = report["date"].replace(":", "").replace(" ", "-")
    kind = "-memory" if report.get("memory") else ""
    (RESULTS / f"{stamp}{kind}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (RESULTS / f"{stamp}{kind}.md").write_text(text)
    (RESULTS / f"latest{kind}.md").write_text(text)
    return RESULTS / f"{stamp}{kind}.md"


# --- Main -----------------------------------------------------------------------------


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench does it)")
    started = time.monotonic()
    load_start = load()
    info = machine()
    say(
        f"ShopSwift benchmark on {info['cpu']}, {info['cores']} cores, "
        f"load {load_start}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="shopswift-bench-"))
    environment = servers.server_environment(
        database_url=args.database_url,
        redis_url=args.redis_url,
        CELERY_BROKER_URL=args.broker_url,
        STATIC_ROOT=str(workdir / "static"),
        # The servers log every request, as in production.
        LOG_LEVEL="INFO",
        # Long enough for every round; the tokens are made before the run.
        JWT_ACCESS_TOKEN_MINUTES="120",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_MAX_REQUESTS="0",
    )

    say(f"Database {urlsplit(args.database_url).path.lstrip('/')}: recreating ...")
    recreate_database(args.database_url)
    empty_redis(args.redis_url, args.broker_url)
    servers.setup_django(environment)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    clock = time.monotonic()
    seeded = seed(args)
    # What autovacuum would have done to tables this fresh in production (it
    # may be off where the benchmark runs): without statistics and with the
    # trigram indexes' pending lists unmerged, the planner scans whole tables.
    # First, the products table written compactly: the seed writes each
    # product again for its aggregates (price and stock, search terms,
    # option values: three dead versions of every row, four times the
    # table), which a catalog written once, or autovacuum's reuse of the
    # space over time, does not leave.
    from catalog.models import Product

    with connections["default"].cursor() as cursor:
        table = connections["default"].ops.quote_name(Product._meta.db_table)
        cursor.execute(f"VACUUM FULL {table}")
        cursor.execute("VACUUM ANALYZE")
    say(
        f"Seeded {args.products} products in {len(seeded.categories)} categories "
        f"and {8 + 800 + 8 + 2 * args.rounds * args.buyers} customers "
        f"(then VACUUM FULL of the products, VACUUM ANALYZE) in "
        f"{time.monotonic() - clock:.1f} s"
    )
    database = database_figures(connections["default"])
    say(
        f"PostgreSQL {database['version']}: shared_buffers "
        f"{database['shared_buffers']}, the database {database['size']}"
    )
    connections.close_all()

    all_scenarios = scenarios(args)
    if args.memory:
        all_scenarios = [s for s in all_scenarios if s.name == "products"]
    elif args.only:
        wanted = {"bare", "floor", *args.only.split(",")}
        unknown = wanted - {s.name for s in all_scenarios}
        if unknown:
            raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
        all_scenarios = [s for s in all_scenarios if s.name in wanted]
    build_plans(args, seeded, workdir, all_scenarios)

    store_log = workdir / "store.log"
    store = start_server(environment, args.port, None, store_log)
    bare = start_server(
        environment, args.port + 1, "bench.bare:application", workdir / "bare.log"
    )
    deadlocks_before = deadlocks(args.database_url)
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": git_commit(),
        "machine": info,
        "database": database,
        "load_start": load_start,
        "settings": {
            key: getattr(args, key)
            for key in (
                "workers",
                "threads",
                "connections",
                "wrk_threads",
                "rounds",
                "duration",
                "warmup",
                "products",
                "categories",
                "buyers",
                "hot_stock",
            )
        },
    }
    try:
        if args.serve:
            say(
                f"Serving: store on {args.port} (workers {worker_pids(store)}), "
                f"bare app on {args.port + 1}; plans in {workdir}. Ctrl-C stops."
            )
            # A background job ignores Ctrl-C's signal: stop on SIGTERM too.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                signal.pause()
            except KeyboardInterrupt:
                return 0
        if args.memory:
            run_wrk(args, args.port, all_scenarios[0].plans[0], "cycle", 2)
            report["memory"] = measure_memory(args, store, all_scenarios[0])
            report["scenarios"] = {}
        else:
            measure(args, {"store": store, "bare": bare}, all_scenarios)
            report["scenarios"] = summarise(all_scenarios)
    finally:
        servers.stop_gunicorn(store)
        servers.stop_gunicorn(bare)
    time.sleep(1)
    checks = check_stock(seeded)
    checks["deadlocks"] = deadlocks(args.database_url) - deadlocks_before
    checks["server_errors"] = sum(
        line["server_errors"] for line in report["scenarios"].values()
    )
    checks["server_log_errors"] = server_log_errors(store_log)
    report["checks"] = checks
    if args.import_rows and not args.memory and not args.only:
        say(f"Timing import_products of {args.import_rows} new products ...")
        report["import_products"] = time_import(args, environment, workdir)
    report["load_end"] = load()
    report["seconds"] = round(time.monotonic() - started)
    empty_redis(args.broker_url)  # the order emails nobody will send

    say()
    say(markdown(report))
    for line in checks["server_log_errors"][:10]:
        say(f"server log: {line}")
    if not args.no_save:
        say(f"Written: {write_report(report)} (and its .json, and the latest copy)")
    say(f"Took {report['seconds']} s.")

    failures = []
    errors = {
        name: line["errors"]
        for name, line in report["scenarios"].items()
        if line["errors"]
    }
    if errors:
        failures.append(f"unexpected responses or socket errors: {errors}")
    if checks["oversold_units"] or checks["products_off_the_books"]:
        failures.append("oversold or stock off the books")
    if checks["voucher_overrun"]:
        failures.append("voucher used beyond its limit")
    if checks["ledger"] != "balanced":
        failures.append(f"ledger: {checks['ledger']}")
    if checks["deadlocks"]:
        failures.append(f"{checks['deadlocks']} deadlocks")
    if checks["server_log_errors"]:
        failures.append("errors in the server log")
    if report.get("import_products", {}).get("error"):
        failures.append("import_products failed")
    if args.memory and not report["memory"]["flat"]:
        say("Worker memory was not flat (reported, not a failure).")
    if failures:
        say("FAILED: " + "; ".join(failures) + f" (server log: {store_log})")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
