"""The store a benchmark drives: its database and environment, gunicorn started and
stopped, Django set up in the benchmark's own process.

Shared by run.py, checkout.py, soak.py and import_products.py, which are run
as scripts from the repository root (so this folder is on sys.path).
"""

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30
# The store's own variables: a benchmark's store gets only those the
# benchmark sets, none from the shell that started it.
STORE_VARIABLES = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "SENTRY_")
SHIPPING_ADDRESS = {
    "full_name": "Bench Buyer",
    "line1": "1 Loopback Lane",
    "city": "Localhost",
    "postal_code": "12345",
    "country": "US",
}
# The benchmarks' buyers ship by a method of a zone that holds their
# country, pay tax there, and (the checkout benchmark's) bring a voucher, so
# that a checkout pays for the whole pricing pipeline (ensure_pricing_rules).
SHIPPING_METHOD = "bench-ground"
TAX_RATE = "8.25"
CHECKOUT_BODY = {
    "shipping_address": SHIPPING_ADDRESS,
    "shipping_method": SHIPPING_METHOD,
}


def ensure_pricing_rules():
    """The zone, method and tax rate the buyers meet, made once (Django set up)."""
    from decimal import Decimal

    from pricing import services
    from pricing.models import ShippingMethod, ShippingZone, TaxRate

    TaxRate.objects.get_or_create(
        country=SHIPPING_ADDRESS["country"],
        tax_class="standard",
        defaults={"rate": Decimal(TAX_RATE)},
    )
    if ShippingMethod.objects.filter(code=SHIPPING_METHOD).exists():
        return
    services.save_shipping_zone(
        zone=ShippingZone(name="Bench", countries=[SHIPPING_ADDRESS["country"]]),
        methods=[
            {
                "code": SHIPPING_METHOD,
                "name": "Bench Ground",
                "price": Decimal("5.00"),
                "free_above": Decimal("50.00"),
                "estimated_days": 3,
            }
        ],
    )


def default_database_url():
    """BENCH_DATABASE_URL, else DATABASE_URL, else a local `shopswift_bench`."""
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/shopswift_bench"
    )


def server_environment(*, database_url, redis_url, **variables):
    """The environment of a benchmark's store: production mode on loopback.

    `variables` add to it or override it (the broker, gunicorn's settings).
    A metrics folder of the shell's is left out too: gunicorn makes its own.
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(STORE_VARIABLES) and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="shopswift.settings",
        DJANGO_DEBUG="false",
        DJANGO_HTTPS="false",
        DJANGO_SECRET_KEY="bench-" + secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        LOG_LEVEL="WARNING",
        # The benchmark measures throughput, not the limits: a scenario that
        # cycles a few customers' cart lines would meet the per-customer cart
        # limit once a round runs fast enough, and a smoke run on a loaded
        # machine met the per-customer checkout limit once.
        RATELIMIT_CART_WRITE="1000000/m",
        RATELIMIT_CHECKOUT="1000000/m",
    )
    environment.update(variables)
    return environment


def setup_django(environment):
    """Set Django up in this process, on the store's environment, to seed and check."""
    os.environ.update(environment)
    # This process seeds and checks; only the servers log every request.
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def start_gunicorn(command, *, cwd, environment, port, log):
    """Start gunicorn in its own process group; return it once /healthz is 200."""
    # Our own command line, no shell.
    server = subprocess.Popen(  # nosec B603
        command,
        cwd=cwd,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"gunicorn exited with {server.returncode}; see {log.name}"
            )
        try:
            # A loopback http:// URL of our own.
            with urllib.request.urlopen(  # nosec B310
                f"http://127.0.0.1:{port}/healthz", timeout=2
            ) as answer:
                if answer.status == 200 and server.poll() is None:
                    return server
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(server)
    raise SystemExit(
        f"gunicorn did not answer on port {port} within {STARTUP_SECONDS} s"
    )


def stop_gunicorn(server):
    """Stop gunicorn and its workers: TERM, then KILL after 20 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def ensure_database(url):
    """Create the benchmark's PostgreSQL database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not found:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
