"""django-ratelimit's clock, for tests of rate limits (other apps' too)."""

import zlib

import django_ratelimit.core
import pytest


class FrozenClock:
    """A stand-in for the `time` module inside django-ratelimit."""

    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def ratelimit_clock(monkeypatch):
    """Freeze django-ratelimit's clock, so that no window ends mid-test."""
    clock = FrozenClock(1_800_000_000)
    monkeypatch.setattr(django_ratelimit.core, "time", clock)
    return clock


def seconds_left(value, period, now):
    """Seconds until a new django-ratelimit window starts for the key `value`.

    Its windows are fixed, each key's edge shifted by crc32(key) so that they
    do not all end together; the edge second itself still counts as the old
    window.
    """
    now = int(now)
    end = now - now % period + zlib.crc32(value.encode()) % period
    if end < now:
        end += period
    return end - now + 1
