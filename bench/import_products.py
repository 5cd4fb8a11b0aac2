#!/usr/bin/env python
"""Import benchmark: `manage.py import_products` on a large CSV file, on PostgreSQL.

Writes a file of --rows products (50,000 by default) under a run-specific
SKU prefix and category, then times, each as its own `manage.py` process
(what an operator runs):

1. the import that creates every product (with its stock movement);
2. the same file again (every row unchanged);
3. a file that changes every price and every stock figure (all updated,
   one movement each);
4. export_products of the whole catalog, then a dry run of that export
   (the round trip: nothing would change);

and finally `reconcile_stock`, which must find no drift. The target for
50,000 rows is under 60 seconds per import.

    .venv/bin/python bench/import_products.py
    .venv/bin/python bench/import_products.py --rows 10000

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

from servers import ROOT, default_database_url, ensure_database

PYTHON = sys.executable
TARGET_SECONDS = 60


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
    parser.add_argument("--rows", type=int, default=50_000, help="Rows per file.")
    args = parser.parse_args()
    if not 1 <= args.rows <= 1_000_000:
        parser.error("--rows must be from 1 to 1000000.")
    return args


def manage(env, *args, output=None):
    """Run one manage.py command; return (seconds, its standard output)."""
    start = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=output or subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout or ""


def write_file(path, prefix, category, rows, *, price_step, stock_step):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["sku", "name", "price", "category", "stock", "description"])
        for n in range(rows):
            writer.writerow(
                [
                    f"{prefix}-{n:07d}",
                    f"Bench product {n} {prefix}",
                    f"{(n % 500) + price_step}.99",
                    category,
                    (n % 90) + stock_step,
                    f"Row {n} of the import benchmark, run {prefix}.",
                ]
            )


def report(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def summary_of(output):
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def main():
    args = parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_DEBUG": "true",
    }
    if not args.redis_url:
        env.pop("REDIS_URL")
    if not args.database_url.startswith("postgres"):
        sys.exit("The import benchmark runs on PostgreSQL: give a postgres:// URL.")
    ensure_database(args.database_url)
    manage(env, "migrate", "--no-input", "-v", "0")
    run = uuid.uuid4().hex[:6].upper()
    prefix, category = f"BI{run}", f"bench-import-{run.lower()}"
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder, "products.csv"), Path(folder, "changed.csv")
        write_file(first, prefix, category, args.rows, price_step=1, stock_step=10)
        write_file(second, prefix, category, args.rows, price_step=2, stock_step=5)
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
    _, output = manage(env, "reconcile_stock")
    report(f"{'ledger':>10}: {summary_of(output)}")
    slowest = max(seconds for _, seconds, _ in figures)
    verdict = "within" if slowest < TARGET_SECONDS else "OVER"
    report(
        f"{args.rows} rows: slowest import {slowest:.1f} s, {verdict} the "
        f"{TARGET_SECONDS} s target."
    )
    return 0 if slowest < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
