"""The soak's short form: bench/soak.py for 40 seconds against gunicorn.

A bounded mixed load (browsing, searches, carts, checkouts, payments and
bad requests, on the API and on the pages as a browser: session carts
filled through the product page's form with its CSRF token, buyers logged
in through the login page checking out and paying on the pages) on
PostgreSQL and Redis, loopback only: no 5xx, every page flow answered as
a browser expects, no oversell, stock and the stock ledger add up, worker
memory levels off. The long form is `bench/soak.py --duration 600`
(bench/README.md).
"""

import json
import subprocess
import sys

import pytest

from core.testing import current_database_url, redis_url
from tests.reliability.servers import BASE_DIR, free_port

SOAK_SECONDS = 40


@pytest.mark.slow
def test_a_short_soak_keeps_every_promise(tmp_path):
    figures_path = tmp_path / "soak.json"

    result = subprocess.run(
        [
            sys.executable,
            "bench/soak.py",
            "--duration",
            str(SOAK_SECONDS),
            "--port",
            str(free_port()),
            "--json",
            str(figures_path),
            "--database-url",
            current_database_url(name="shopswift_soak"),
            "--redis-url",
            redis_url(1),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=SOAK_SECONDS + 240,
        check=False,
    )

    sys.stdout.write(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["server_errors_or_failures"] == 0
    assert figures["oversold_units"] == 0
    assert figures["stock_mismatches"] == 0
    assert figures["ledger"] == "clean"
    assert figures["memory"]["levels_off"] is True
    assert figures["requests"] > 500
    # The pages' flows ran to their end, not only the API's.
    assert figures["orders_placed"]["pages"] > 0
    assert figures["paid_on_pages"] > 0
    assert figures["session_cart_adds"] > 0
    soak_figures.update(figures)


# Printed at the end of the run by tests/reliability/conftest.py.
soak_figures = {}
