"""/metrics: who may read it, and the series it exposes."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from accounts.tests.factories import UserFactory
from core import metrics

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-4f9a1c"


@pytest.fixture
def open_metrics(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client):
    """The samples of /metrics, as {(name, sorted label pairs): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def requests_served(samples, view, status="200", method="GET"):
    key = (
        "shopswift_http_request_duration_seconds_count",
        (("method", method), ("status", status), ("view", view)),
    )
    return samples.get(key, 0)


# --- Access ---------------------------------------------------------------------------


def test_metrics_are_absent_in_production_until_access_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    response = client.get("/metrics")

    assert response.status_code == 404


def test_metrics_are_open_in_development_mode(client, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "authorization",
    ["", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer"],
    ids=["missing", "wrong", "other-scheme", "empty"],
)
def test_a_scraper_without_the_token_is_refused(client, open_metrics, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 403
    assert b"shopswift_" not in response.content


def test_a_scraper_with_the_token_reads_the_metrics(client, open_metrics):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response["Cache-Control"] == "no-store"


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client, open_metrics):
    response = client.get(
        "/metrics",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        HTTP_ACCEPT="application/openmetrics-text; version=1.0.0",
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


@pytest.mark.parametrize(
    ("allowed", "address", "status"),
    [
        (["10.0.0.0/8"], "10.1.2.3", 200),
        (["10.0.0.0/8"], "192.168.1.9", 403),
        (["192.168.1.9", "::1"], "::1", 200),
    ],
)
def test_allowed_addresses_admit_only_their_callers(
    client, settings, allowed, address, status
):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = allowed

    response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == status


def test_token_and_addresses_together_must_both_match(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    outside = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="192.168.1.9"
    )
    no_token = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    both = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="10.1.2.3"
    )

    assert (outside.status_code, no_token.status_code, both.status_code) == (
        403,
        403,
        200,
    )


# --- Series ---------------------------------------------------------------------------


def test_requests_are_counted_and_timed_by_view_method_and_status(client, open_metrics):
    before = scrape(client)

    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")
    client.generic("BREW", "/healthz")

    after = scrape(client)
    assert requests_served(after, "healthz") - requests_served(before, "healthz") == 2
    assert (
        requests_served(after, "<unmatched>", "404")
        - requests_served(before, "<unmatched>", "404")
        == 1
    )
    assert (
        requests_served(after, "healthz", method="other")
        - requests_served(before, "healthz", method="other")
        == 1
    )
    bucket = (
        "shopswift_http_request_duration_seconds_bucket",
        (("le", "+Inf"), ("method", "GET"), ("status", "200"), ("view", "healthz")),
    )
    assert after[bucket] == requests_served(after, "healthz")


def test_views_are_labelled_by_their_url_name(client, open_metrics):
    client.force_login(UserFactory(is_staff=True))
    before = scrape(client)

    client.get("/admin/")

    after = scrape(client)
    assert (
        requests_served(after, "admin:index") - requests_served(before, "admin:index")
        == 1
    )


def test_database_statements_are_counted(client, open_metrics):
    count = ("shopswift_db_query_duration_seconds_count", (("alias", "default"),))
    before = scrape(client)

    client.get("/readyz")

    assert scrape(client)[count] - before[count] == 1


def test_cache_commands_and_lookups_are_counted(client, open_metrics):
    def command(name):
        return ("shopswift_cache_command_duration_seconds_count", (("command", name),))

    hits = ("shopswift_cache_lookups_total", (("result", "hit"),))
    misses = ("shopswift_cache_lookups_total", (("result", "miss"),))
    before = scrape(client)

    client.get("/readyz")  # writes a key, reads it back, deletes it

    after = scrape(client)
    assert after[command("SET")] - before.get(command("SET"), 0) == 1
    assert after[command("GET")] - before.get(command("GET"), 0) == 1
    assert after[command("DEL")] - before.get(command("DEL"), 0) == 1
    assert after[hits] - before[hits] == 1
    assert after[misses] - before[misses] == 0


def test_the_stores_figures_are_exported_before_anything_happens(client, open_metrics):
    samples = scrape(client)

    assert {
        ("shopswift_orders_placed_total", ()),
        ("shopswift_payments_total", (("outcome", "approved"),)),
        ("shopswift_payments_total", (("outcome", "declined"),)),
        ("shopswift_checkout_conflicts_total", (("reason", "insufficient_stock"),)),
        ("shopswift_checkout_conflicts_total", (("reason", "price_changed"),)),
    } <= samples.keys()


def test_the_domain_apps_record_the_stores_figures(client, open_metrics):
    declined = ("shopswift_payments_total", (("outcome", "declined"),))
    placed = ("shopswift_orders_placed_total", ())
    stock = ("shopswift_checkout_conflicts_total", (("reason", "insufficient_stock"),))
    before = scrape(client)

    metrics.record_order_placed()
    metrics.record_payment(approved=False)
    metrics.record_checkout_conflict("insufficient_stock")

    after = scrape(client)
    assert after[placed] - before[placed] == 1
    assert after[declined] - before[declined] == 1
    assert after[stock] - before[stock] == 1


def test_an_unknown_checkout_conflict_reason_is_refused():
    with pytest.raises(ValueError, match="Unknown checkout conflict 'oversold'"):
        metrics.record_checkout_conflict("oversold")
