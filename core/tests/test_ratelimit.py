"""core/ratelimit.py: the counts behind every limit, read from django-ratelimit.

The limits themselves are tested where users meet them (accounts, carts,
orders); a cache that gives no count, in tests/reliability/test_faults_redis.py.
"""

import zlib

import django_ratelimit.core
import pytest
from django.test import RequestFactory

from core.ratelimit import get_limit_usage

PERIOD = 60


class ClockAtAWindowsEnd:
    """django-ratelimit's clock: in a window's last second, then a second later.

    django-ratelimit reads the time to pick the window, then again for the
    time left in it; a slow cache round trip between the two crosses the end.
    """

    def __init__(self, key):
        # A window of `key` ends at this second (its edge is shifted by crc32).
        self.edge = 30_000_000 * PERIOD + zlib.crc32(key.encode()) % PERIOD
        self.reads = 0

    def time(self):
        self.reads += 1
        return self.edge + (0.9 if self.reads == 1 else 1.1)


@pytest.fixture
def clock_at_a_windows_end(monkeypatch):
    clock = ClockAtAWindowsEnd("edge-key")
    monkeypatch.setattr(django_ratelimit.core, "time", clock)
    return clock


def test_a_count_read_as_its_window_ends_is_a_count_not_a_refusal(
    settings, clock_at_a_windows_end
):
    settings.TEST_RATE = "5/m"

    usage = get_limit_usage(
        RequestFactory().post("/"),
        group="edge-test",
        setting="TEST_RATE",
        key=lambda group, request: "edge-key",
        increment=True,
    )

    # Counted in the window that just ended: nothing left to wait for.
    assert (usage.count, usage.limit, usage.exceeded) == (1, 5, False)
    assert usage.retry_after == 0
    assert clock_at_a_windows_end.reads == 2
