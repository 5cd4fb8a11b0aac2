#!/usr/bin/env python
"""Checkout benchmark: concurrent buyers against gunicorn on PostgreSQL and Redis.

Starts the store with production settings (plain HTTP, loopback only),
seeds buyers with full carts and JWT access tokens, then fires their
checkouts concurrently over HTTP in two scenarios:

- distinct: every buyer buys products that plenty of stock covers, spread
  over many products (the throughput of checkout itself);
- hot: every buyer wants the same product, which has far fewer units than
  buyers (the worst contention: all checkouts lock one row).

Every buyer ships by a method to a country with tax, and brings a voucher
(10 % off) on the cart whose usage limit is three quarters of the buyers, so
that a quarter of the checkouts race for used-up uses: the whole pricing
pipeline, and the voucher's conditional update, on every checkout.

It reports checkouts per second, p50/p99 latency, the status counts,
oversells (units sold beyond the starting stock: must be 0) and voucher
overruns (orders with the voucher beyond its limit: must be 0), and runs
`reconcile_stock`. Bounded: a few hundred checkouts, a deadline per
scenario, loopback only.

    .venv/bin/python bench/checkout.py            # or: make bench-checkout
    .venv/bin/python bench/checkout.py --buyers 300 --concurrency 16

The database (BENCH_DATABASE_URL, else DATABASE_URL, else a local
`shopswift_bench`) is migrated and gets the run's users and products, each
named after the run so that runs never mix; use a database of its own.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import servers
from servers import CHECKOUT_BODY, ROOT, ensure_pricing_rules

PYTHON = sys.executable


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=servers.default_database_url())
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/14",
    )
    parser.add_argument(
        "--broker-url",
        default=None,
        help="Celery broker the emails are queued on, as in production (default: "
        "the Redis URL; the queue is purged afterwards). An empty value sends "
        "the emails inline, in the request.",
    )
    parser.add_argument("--port", type=int, default=18500)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--buyers", type=int, default=200, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument(
        "--hot-stock", type=int, default=50, help="units of the one hot product"
    )
    parser.add_argument(
        "--deadline", type=float, default=60, help="seconds allowed per scenario"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.broker_url is None:
        args.broker_url = args.redis_url
    if not 1 <= args.buyers <= 1000:
        parser.error("--buyers must be between 1 and 1000")
    if not 1 <= args.concurrency <= 64:
        parser.error("--concurrency must be between 1 and 64")
    return args


def seed(run, scenario, buyers, hot_stock):
    """Create the scenario's products and buyers with full carts; return tokens."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from carts.models import Cart, CartItem
    from carts.services import get_user_cart
    from catalog import services as catalog_services
    from catalog.models import Category
    from pricing.models import Voucher

    ensure_pricing_rules()
    voucher = Voucher.objects.create(
        code=f"BENCH-{run}-{scenario}",
        kind="percentage",
        value=10,
        usage_limit=buyers * 3 // 4,
    )
    category = Category.objects.create(name=f"Bench {run} {scenario}")
    if scenario == "hot":
        products = [
            catalog_services.create_product(
                sku=f"B{run}-HOT",
                name=f"Hot item {run}",
                category=category,
                price="19.99",
                stock=hot_stock,
            )
        ]
    else:
        products = [
            catalog_services.create_product(
                sku=f"B{run}-D{index:03d}",
                name=f"Item {index} of run {run}",
                category=category,
                price=f"{random.randint(100, 9999) / 100:.2f}",
                stock=buyers * 3,
            )
            for index in range(50)
        ]
    users = User.objects.bulk_create(
        User(email=f"bench-{run}-{scenario}-{n}@example.com", password="!")
        for n in range(buyers)
    )
    # Each product's one default variant, which the carts hold.
    variant_of = {product.pk: product.variants.get() for product in products}
    items = []
    for user in users:
        cart = get_user_cart(user=user)
        chosen = products if scenario == "hot" else random.sample(products, 3)
        items += [
            CartItem(cart=cart, variant=variant_of[p.pk], quantity=1) for p in chosen
        ]
    CartItem.objects.bulk_create(items)
    Cart.objects.filter(user__in=users).update(voucher=voucher)
    starting = {product.pk: product.stock for product in products}
    return [str(AccessToken.for_user(user)) for user in users], starting, voucher


def start_server(args, environment, log):
    command = [
        str(Path(PYTHON).with_name("gunicorn")),
        "shopswift.wsgi",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
    ]
    return servers.start_gunicorn(
        command, cwd=ROOT, environment=environment, port=args.port, log=log
    )


def fire(args, tokens):
    """POST one checkout per token, `concurrency` at a time; return the results."""
    local = threading.local()
    deadline = time.monotonic() + args.deadline
    body = json.dumps(CHECKOUT_BODY).encode()

    def checkout(token):
        if time.monotonic() > deadline:
            return "skipped", 0.0
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(
                "127.0.0.1", args.port, timeout=15
            )
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        start = time.perf_counter()
        try:
            local.connection.request("POST", "/api/v1/orders/", body, headers)
            response = local.connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            local.connection.close()
            del local.connection
            status = type(error).__name__
        return status, time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(checkout, tokens))
    return results, time.perf_counter() - start


def check_stock(starting):
    """Units sold per product against its starting stock, and the ledger."""
    from django.core.management import call_command
    from django.db.models import Sum

    from catalog.models import Product
    from orders.models import OrderItem

    sold = dict(
        OrderItem.objects.filter(product_id__in=starting)
        .values_list("product_id")
        .annotate(units=Sum("quantity"))
    )
    oversold = 0
    mismatched = 0
    for product_id, stock in Product.objects.filter(pk__in=starting).values_list(
        "pk", "stock"
    ):
        units = sold.get(product_id, 0)
        oversold += max(units - starting[product_id], 0)
        mismatched += stock != starting[product_id] - units or stock < 0
    with open(os.devnull, "w") as quiet:
        call_command("reconcile_stock", stdout=quiet)  # raises on any drift
    return sum(sold.values()), oversold, mismatched


def check_voucher(voucher):
    """Orders placed with the voucher, and how many beyond its limit."""
    from orders.models import Order

    voucher.refresh_from_db()
    orders = Order.objects.filter(voucher=voucher).count()
    overrun = max(orders - voucher.usage_limit, voucher.used_count - orders, 0)
    return orders, overrun


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_scenarios(args, environment, log, run):
    figures = {}
    server = start_server(args, environment, log)
    try:
        for scenario in ("distinct", "hot"):
            tokens, starting, voucher = seed(run, scenario, args.buyers, args.hot_stock)
            results, seconds = fire(args, tokens)
            statuses = Counter(str(status) for status, _ in results)
            latencies = [latency for status, latency in results if status != "skipped"]
            placed = statuses.get("201", 0)
            units, oversold, mismatched = check_stock(starting)
            voucher_orders, overrun = check_voucher(voucher)
            line = figures[scenario] = {
                "checkouts": len(results),
                "seconds": round(seconds, 2),
                "checkouts_per_second": round(len(latencies) / seconds, 1),
                "orders_per_second": round(placed / seconds, 1),
                "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "statuses": dict(sorted(statuses.items())),
                "starting_stock": sum(starting.values()),
                "units_sold": units,
                "oversold": oversold,
                "stock_mismatches": mismatched,
                "voucher_limit": voucher.usage_limit,
                "voucher_orders": voucher_orders,
                "voucher_overrun": overrun,
            }
            say(
                f"{scenario:>8}: {line['checkouts']} checkouts in {line['seconds']} s"
                f" = {line['checkouts_per_second']}/s ({line['orders_per_second']}"
                f" orders/s), p50 {line['p50_ms']} ms, p99 {line['p99_ms']} ms,"
                f" statuses {line['statuses']}, sold {units} of"
                f" {line['starting_stock']} units, oversold {oversold},"
                f" voucher on {voucher_orders} orders of {voucher.usage_limit}"
                f" allowed (overrun {overrun})"
            )
    finally:
        servers.stop_gunicorn(server)
    return figures


def main():
    args = parse_args()
    environment = servers.server_environment(
        database_url=args.database_url,
        redis_url=args.redis_url,
        # No worker runs: the emails wait in the queue, which is purged.
        CELERY_BROKER_URL=args.broker_url,
    )
    servers.ensure_database(args.database_url)
    servers.setup_django(environment)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    run = secrets.token_hex(3).upper()
    with tempfile.NamedTemporaryFile(
        "w", prefix="bench-checkout-", suffix=".log", delete=False
    ) as log:
        emails = "queued on the broker" if args.broker_url else "sent inline"
        say(
            f"Checkout benchmark {run}: gunicorn with {args.workers} workers on "
            f"127.0.0.1:{args.port}, {args.buyers} buyers a scenario, "
            f"{args.concurrency} at a time, emails {emails} "
            f"(server log: {log.name})"
        )
        figures = run_scenarios(args, environment, log, run)
    if args.broker_url:
        from shopswift.celery import app

        say(f"Purged {app.control.purge()} queued email tasks.")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    failures = [
        scenario
        for scenario, line in figures.items()
        if line["oversold"]
        or line["stock_mismatches"]
        or line["voucher_overrun"]
        or set(line["statuses"]) - {"201", "409"}
    ]
    if failures:
        say(f"FAILED: oversells, stock drift or errors in {', '.join(failures)}")
        return 1
    say("No oversells or voucher overruns; stock matches the orders and the ledger.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
