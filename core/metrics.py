"""Prometheus metrics: what the store counts, and the /metrics endpoint.

The domain apps record the store's figures through the functions at the top
(``record_order_placed``, ``record_payment``, ``record_checkout_conflict``);
the request, database and cache series are recorded here, by the access
middleware, a database execute wrapper and a Redis client class (which also
puts each Redis server behind its circuit breaker, core/redis_breaker.py).

Under gunicorn every worker is a process of its own: ``deploy/gunicorn.conf.py``
sets PROMETHEUS_MULTIPROC_DIR before the workers start, each worker writes
its values to files there, and /metrics adds up the files of all workers
(prometheus_client's multiprocess mode). Without that variable (runserver,
tests, management commands) the values live in the process.
"""

import hmac
import ipaddress
import os
import time

import redis
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder

from core import redis_breaker

# --- The store's figures, recorded by the domain apps ---------------------------
# Record after the transaction commits (transaction.on_commit), so that work
# rolled back is not counted.

PAYMENT_OUTCOMES = ("approved", "declined")
CHECKOUT_CONFLICT_REASONS = ("insufficient_stock", "price_changed", "voucher_exhausted")

ORDERS_PLACED = Counter("shopswift_orders_placed", "Orders placed.")
PAYMENTS = Counter("shopswift_payments", "Payment attempts, by outcome.", ["outcome"])
CHECKOUT_CONFLICTS = Counter(
    "shopswift_checkout_conflicts",
    "Checkouts refused because stock or prices changed, by reason.",
    ["reason"],
)
# Every outcome and reason is exported from the start, at zero.
for _outcome in PAYMENT_OUTCOMES:
    PAYMENTS.labels(outcome=_outcome)
for _reason in CHECKOUT_CONFLICT_REASONS:
    CHECKOUT_CONFLICTS.labels(reason=_reason)


def record_order_placed():
    """Count one order placed."""
    ORDERS_PLACED.inc()


def record_payment(*, approved):
    """Count one payment attempt, approved or declined by the gateway."""
    PAYMENTS.labels(outcome="approved" if approved else "declined").inc()


def record_checkout_conflict(reason):
    """Count one checkout refused with a 409 (CHECKOUT_CONFLICT_REASONS)."""
    if reason not in CHECKOUT_CONFLICT_REASONS:
        raise ValueError(
            f"Unknown checkout conflict {reason!r}; "
            f"expected one of {', '.join(CHECKOUT_CONFLICT_REASONS)}."
        )
    CHECKOUT_CONFLICTS.labels(reason=reason).inc()


# --- Requests (recorded by core.middleware.AccessLogMiddleware) ---------------

HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)

HTTP_REQUEST_DURATION = Histogram(
    "shopswift_http_request_duration_seconds",
    "Time to answer a request, by view, method and status; "
    "_count is the number of requests.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def record_request(view, method, status, seconds):
    # Label values stay few: an unknown method would otherwise let any
    # client add series.
    if method not in HTTP_METHODS:
        method = "other"
    HTTP_REQUEST_DURATION.labels(view, method, str(status)).observe(seconds)


# --- Database (an execute wrapper on every connection) ---------------------------

DB_QUERY_DURATION = Histogram(
    "shopswift_db_query_duration_seconds",
    "Time of each SQL statement, by database alias; _count is the number of "
    "statements.",
    ["alias"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DB_QUERY_ERRORS = Counter(
    "shopswift_db_query_errors", "SQL statements that failed.", ["alias"]
)


def instrument_database(execute, sql, params, many, context):
    """Time one SQL statement (a Django execute wrapper)."""
    alias = context["connection"].alias
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    except Exception:
        DB_QUERY_ERRORS.labels(alias).inc()
        raise
    finally:
        DB_QUERY_DURATION.labels(alias).observe(time.perf_counter() - start)


def install_database_instrumentation(sender, connection, **kwargs):
    """Add the wrapper to a connection (a connection_created receiver).

    The wrapper list outlives the database connection it was added for, so a
    reconnect must not add it twice.
    """
    if instrument_database not in connection.execute_wrappers:
        connection.execute_wrappers.append(instrument_database)


# --- Cache (django-redis's REDIS_CLIENT_CLASS) ------------------------------------

CACHE_COMMAND_DURATION = Histogram(
    "shopswift_cache_command_duration_seconds",
    "Time of each Redis command of the cache, by command; _count is the number "
    "of commands.",
    ["command"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
CACHE_COMMAND_ERRORS = Counter(
    "shopswift_cache_command_errors",
    "Redis commands of the cache that failed, by command.",
    ["command"],
)
CACHE_LOOKUPS = Counter(
    "shopswift_cache_lookups",
    "Keys read from the cache, by result (hit or miss).",
    ["result"],
)
_CACHE_HITS = CACHE_LOOKUPS.labels(result="hit")
_CACHE_MISSES = CACHE_LOOKUPS.labels(result="miss")


REDIS_BREAKER_OPENINGS = Counter(
    "shopswift_redis_breaker_openings",
    "Times a Redis server did not answer and its circuit breaker opened, by "
    "server (each process counts its own).",
    ["server"],
)


class InstrumentedRedis(redis.Redis):
    """The cache's Redis client: each command timed and counted, behind a breaker.

    A command to a server that did not answer recently fails at once with
    CircuitOpen (core/redis_breaker.py); one that fails to reach it
    opens the breaker for REDIS_BREAKER_SECONDS. Commands queued in a
    pipeline are sent together, and neither counted nor guarded (the store
    sends none).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        address = self.get_connection_kwargs()
        self.breaker = redis_breaker.breaker_for(
            address.get("path") or f"{address.get('host')}:{address.get('port')}"
        )

    def execute_command(self, *args, **options):
        command = str(args[0]).upper()
        self.breaker.before_command()
        start = time.perf_counter()
        try:
            result = super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError):
            CACHE_COMMAND_ERRORS.labels(command).inc()
            if self.breaker.unreachable(settings.REDIS_BREAKER_SECONDS):
                REDIS_BREAKER_OPENINGS.labels(self.breaker.server).inc()
            raise
        except Exception:
            # An error reply: the server answered.
            CACHE_COMMAND_ERRORS.labels(command).inc()
            self.breaker.answered()
            raise
        finally:
            CACHE_COMMAND_DURATION.labels(command).observe(time.perf_counter() - start)
        self.breaker.answered()
        if command == "GET":
            (_CACHE_MISSES if result is None else _CACHE_HITS).inc()
        elif command == "MGET":
            misses = sum(value is None for value in result)
            _CACHE_MISSES.inc(misses)
            _CACHE_HITS.inc(len(result) - misses)
        return result


# --- The endpoint -------------------------------------------------------------------


def _client_allowed(request):
    """Whether METRICS_TOKEN and METRICS_ALLOWED_IPS, where set, admit the caller."""
    if settings.METRICS_TOKEN:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.METRICS_TOKEN.encode()
        ):
            return False
    if settings.METRICS_ALLOWED_IPS:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        networks = [
            ipaddress.ip_network(network, strict=False)
            for network in settings.METRICS_ALLOWED_IPS
        ]
        if not any(address in network for network in networks):
            return False
    return True


def metrics_view(request):
    """The metrics in Prometheus's text format, for the callers the settings admit.

    Without METRICS_TOKEN or METRICS_ALLOWED_IPS the endpoint is open in
    development mode and absent (404) in production.
    """
    if not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_IPS):
        if not settings.DEBUG:
            raise Http404("Metrics are not enabled.")
    elif not _client_allowed(request):
        return HttpResponseForbidden(
            "Metrics need the bearer token or an allowed address.",
            content_type="text/plain",
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    # Prometheus's own text format, or OpenMetrics when the scraper asks for it.
    encode, content_type = choose_encoder(request.headers.get("Accept"))
    response = HttpResponse(encode(registry), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
