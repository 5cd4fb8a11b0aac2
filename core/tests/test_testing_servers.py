"""The test servers' Redis URLs: each worker and each server its own database."""

import pytest
import redis

from core.testing_servers import redis_database_url, worker_redis_url


@pytest.mark.parametrize(
    ("url", "database", "expected"),
    [
        ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", 3, "redis://127.0.0.1:6379/3"),
        # The embedded Valkey's socket: the "//" of the empty host stays,
        # or the client refuses the URL (the soak's server did).
        ("unix:///tmp/v/valkey.sock?db=15", 1, "unix:///tmp/v/valkey.sock?db=1"),
    ],
)
def test_another_database_on_the_same_server(url, database, expected):
    assert redis_database_url(url, database) == expected
    assert redis.ConnectionPool.from_url(expected).connection_kwargs["db"] == database


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        ("gw0", "unix:///tmp/v/valkey.sock?db=15"),
        ("gw1", "unix:///tmp/v/valkey.sock?db=14"),
    ],
)
def test_each_worker_counts_down_from_the_runs_database(worker, expected):
    assert worker_redis_url("unix:///tmp/v/valkey.sock?db=15", worker) == expected
