"""The circuit breaker in front of each Redis server, and the client that uses it."""

import socket
import threading

import pytest
import redis
from prometheus_client import REGISTRY

from core import redis_breaker
from core.metrics import InstrumentedRedis
from core.redis_breaker import Breaker, CircuitOpen


class Clock:
    """A monotonic clock that the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return Breaker("redis.test:6379", clock=clock)


def test_a_closed_breaker_lets_commands_through(breaker):
    breaker.before_command()
    breaker.answered()

    breaker.before_command()


def test_after_a_failure_commands_fail_at_once_for_the_period(breaker, clock):
    breaker.unreachable(10)
    clock.now += 9.9

    with pytest.raises(CircuitOpen, match=r"Redis at redis\.test:6379 did not"):
        breaker.before_command()


def test_after_the_period_one_probe_goes_and_the_others_still_fail(breaker, clock):
    breaker.unreachable(10)
    clock.now += 10

    breaker.before_command()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_command()


def test_a_probe_that_is_answered_closes_the_breaker(breaker, clock):
    breaker.unreachable(10)
    clock.now += 10
    breaker.before_command()

    breaker.answered()

    breaker.before_command()
    breaker.before_command()


def test_a_probe_that_fails_opens_the_breaker_for_another_period(breaker, clock):
    breaker.unreachable(10)
    clock.now += 10
    breaker.before_command()

    breaker.unreachable(10)

    clock.now += 9.9
    with pytest.raises(CircuitOpen):
        breaker.before_command()
    clock.now += 0.1
    breaker.before_command()


def test_openings_count_each_outage_once(breaker, clock):
    before = redis_breaker.openings()

    first = breaker.unreachable(10)
    again = breaker.unreachable(10)
    clock.now += 10
    breaker.before_command()
    breaker.answered()
    second = breaker.unreachable(10)

    assert (first, again, second) == (True, False, True)
    assert redis_breaker.openings() == before + 2


def test_one_probe_among_threads(breaker, clock):
    breaker.unreachable(10)
    clock.now += 10
    start = threading.Barrier(8)
    outcomes = []

    def command():
        start.wait()
        try:
            breaker.before_command()
        except CircuitOpen:
            outcomes.append("refused")
        else:
            outcomes.append("sent")

    threads = [threading.Thread(target=command) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * 7 + ["sent"]


# --- The cache's Redis client ----------------------------------------------------


def unused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def openings_of(server):
    return (
        REGISTRY.get_sample_value(
            "shopswift_redis_breaker_openings_total", {"server": server}
        )
        or 0
    )


def test_the_client_stops_asking_a_server_that_did_not_answer(settings):
    settings.REDIS_BREAKER_SECONDS = 30
    port = unused_port()
    client = InstrumentedRedis(host="127.0.0.1", port=port, socket_connect_timeout=1)

    with pytest.raises(redis.ConnectionError) as first:
        client.get("key")
    with pytest.raises(CircuitOpen):
        client.get("key")
    with pytest.raises(CircuitOpen):
        InstrumentedRedis(host="127.0.0.1", port=port).set("key", "value")

    assert not isinstance(first.value, CircuitOpen)
    assert openings_of(f"127.0.0.1:{port}") == 1


def test_an_error_reply_leaves_the_breaker_closed(settings):
    client = InstrumentedRedis.from_url(settings.CACHES["default"]["LOCATION"])

    with pytest.raises(redis.ResponseError):
        client.execute_command("NO-SUCH-COMMAND")

    assert client.ping() is True
