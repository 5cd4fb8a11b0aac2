#!/usr/bin/env python
"""Import benchmark: `manage.py import_products` on a large CSV file, on PostgreSQL.

Writes a file of --products products (50,000 by default) under a run-specific
SKU prefix, spread over --categories categories (1 by default), each with
--variants-per-product variants: 1 writes a plain file, one row per product
and no variant columns; more write one row per variant, with its SKU, a size
and a colour as its options, and a compare-at price on one in ten. Then it
times, each as its own `manage.py` process in production mode (what an
operator runs):

1. the import that creates every product (with its stock movements);
2. the same file again (every row unchanged);
3. a file that changes every price and every stock figure (all updated,
   one movement per variant);
4. export_products of the whole catalog, then a dry run of that export
   (the round trip: nothing would change);

and finally `reconcile_stock`, which must find no drift. The target is that
the slowest import takes under 60 seconds for a plain file, under 120 for a
file with variants (issue 17: 100,000 products, 300,000 variants, 200
categories).

    .venv/bin/python bench/import_products.py
    .venv/bin/python bench/import_products.py --products 10000
    .venv/bin/python bench/import_products.py --products 100000 \\
        --variants-per-product 3 --categories 200

The database (BENCH_DATABASE_URL, else DATABASE_URL, else a local
`shopswift_bench`) is migrated and keeps the run's products; use a database
of its own.
"""

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from servers import ROOT, default_database_url, ensure_database, server_environment

PYTHON = sys.executable
PLAIN_TARGET_SECONDS = 60
VARIANTS_TARGET_SECONDS = 120
SIZES = ("XS", "S", "M", "L", "XL")
COLOURS = ("Black", "White", "Red", "Blue", "Green", "Grey")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL database to use (created when missing).",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "",
        help="Redis for the catalog cache (default: none, process memory).",
    )
    parser.add_argument(
        "--products", type=int, default=50_000, help="Products in the file."
    )
    parser.add_argument(
        "--variants-per-product",
        type=int,
        default=1,
        help="Variants of each product (1: a plain file without variant columns; "
        f"at most {len(SIZES) * len(COLOURS)}).",
    )
    parser.add_argument(
        "--categories", type=int, default=1, help="Categories the products fill."
    )
    args = parser.parse_args()
    if not 1 <= args.products <= 1_000_000:
        parser.error("--products must be from 1 to 1000000.")
    if not 1 <= args.variants_per_product <= len(SIZES) * len(COLOURS):
        parser.error(
            f"--variants-per-product must be from 1 to {len(SIZES) * len(COLOURS)}."
        )
    if not 1 <= args.categories <= args.products:
        parser.error("--categories must be from 1 to the number of products.")
    return args


def manage(env, *args):
    """Run one manage.py command; return (seconds, its standard output)."""
    start = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def write_file(path, args, prefix, *, price_step, stock_step):
    """The catalog's file; the steps move every price and every stock figure."""
    variants = args.variants_per_product
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        if variants == 1:
            writer.writerow(
                ["sku", "name", "price", "category", "stock", "description"]
            )
        else:
            writer.writerow(
                [
                    "sku",
                    "name",
                    "category",
                    "description",
                    "variant_sku",
                    "options",
                    "price",
                    "compare_at_price",
                    "stock",
                ]
            )
        for n in range(args.products):
            sku = f"{prefix}-{n:07d}"
            name = f"Bench product {n} {prefix}"
            category = f"bench-import-{prefix.lower()}-{n % args.categories:03d}"
            description = f"Product {n} of the import benchmark, run {prefix}."
            if variants == 1:
                price = f"{(n % 500) + price_step}.99"
                stock = (n % 90) + stock_step
                writer.writerow([sku, name, price, category, stock, description])
                continue
            for i in range(variants):
                size = SIZES[i % len(SIZES)]
                # Each product's combinations are distinct: a colour per
                # round of the sizes.
                colour = COLOURS[(n + i // len(SIZES)) % len(COLOURS)]
                writer.writerow(
                    [
                        sku,
                        name,
                        category,
                        description,
                        f"{sku}-{size}-{colour[:3].upper()}",
                        f"Size={size}; Colour={colour}",
                        f"{(n % 500) + price_step + i}.99",
                        f"{(n % 500) + 10 + i}.99" if (n + i) % 10 == 0 else "",
                        ((n + i) % 90) + stock_step,
                    ]
                )


def report(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def summary_of(output):
    lines = [line for line in output.splitlines() if line.strip()]
    # The created categories' list would fill the screen.
    return re.sub(r"; categories created: .*", ".", lines[-1]) if lines else ""


def main():
    args = parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("The import benchmark runs on PostgreSQL: give a postgres:// URL.")
    env = server_environment(database_url=args.database_url, redis_url=args.redis_url)
    ensure_database(args.database_url)
    manage(env, "migrate", "--no-input", "-v", "0")
    prefix = f"BI{uuid.uuid4().hex[:6].upper()}"
    variants = args.products * args.variants_per_product
    plain = args.variants_per_product == 1
    target = PLAIN_TARGET_SECONDS if plain else VARIANTS_TARGET_SECONDS
    report(
        f"{args.products} products, {variants} variants, {args.categories} "
        f"categories; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
        "cores"
    )
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder, "products.csv"), Path(folder, "changed.csv")
        write_file(first, args, prefix, price_step=1, stock_step=10)
        write_file(second, args, prefix, price_step=2, stock_step=5)
        steps = [
            ("create", ["import_products", str(first), "--create-categories"]),
            ("unchanged", ["import_products", str(first)]),
            ("update", ["import_products", str(second)]),
        ]
        for label, command in steps:
            seconds, output = manage(env, *command)
            figures.append((label, seconds, summary_of(output)))
            report(f"{label:>10}: {seconds:6.1f} s  {summary_of(output)}")
        exported = Path(folder, "export.csv")
        seconds, output = manage(env, "export_products", str(exported))
        report(f"{'export':>10}: {seconds:6.1f} s  {summary_of(output)}")
        seconds, output = manage(env, "import_products", str(exported), "--dry-run")
        report(f"{'round trip':>10}: {seconds:6.1f} s  {summary_of(output)}")
        if not re.search(r" 0 created, 0 updated, \d+ unchanged", output):
            sys.exit("The export did not import back unchanged.")
    seconds, output = manage(env, "reconcile_stock")
    report(f"{'ledger':>10}: {seconds:6.1f} s  {summary_of(output)}")
    slowest = max(seconds for _, seconds, _ in figures)
    verdict = "within" if slowest < target else "OVER"
    report(
        f"{args.products} products, {variants} variants: slowest import "
        f"{slowest:.1f} s, {verdict} the {target} s target; load average "
        f"{os.getloadavg()[0]:.1f}."
    )
    return 0 if slowest < target else 1


if __name__ == "__main__":
    sys.exit(main())
