"""A circuit breaker per Redis server, so that a hung Redis costs one timeout.

A Redis that is down refuses connections at once; one that hangs (its
process stopped, a network that drops packets) accepts them and never
answers, so every command waits for the socket timeout, and a page that
sends four commands waits four times. The breaker stops that: once a
command fails to reach a server (a connection error or a timeout), the
breaker *opens*, and for REDIS_BREAKER_SECONDS every command to that server
fails at once with `CircuitOpen`, without touching the network. Then one
command goes through as a probe (*half-open*; the others still fail at
once): an answer closes the breaker, another failure opens it again.

`CircuitOpen` is a redis-py ConnectionError, so every caller that already
copes with an unreachable Redis copes with it unchanged: the catalog cache
reads PostgreSQL, the rate limits fail open or closed (RATELIMIT_FAIL_OPEN),
/readyz reports the cache failing.

The state is per process (each gunicorn worker pays its own first timeout)
and per server (a hung cache Redis leaves the rate limits' Redis in use),
and safe to share between threads. `openings()` counts the openings of
every breaker of the process, so that the catalog cache can tell that
Redis was unreachable for a while (catalog/cache.py says why it must).
"""

import logging
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class CircuitOpen(RedisConnectionError):
    """Redis was not asked: it failed recently and its breaker is open."""


class Breaker:
    """The breaker of one Redis server: closed, open until a time, or probing."""

    def __init__(self, server, *, clock=time.monotonic):
        self.server = server
        self._clock = clock
        self._lock = threading.Lock()
        # None while closed; else when the next probe may go.
        self._open_until = None
        self._probing = False

    def before_command(self):
        """Raise CircuitOpen unless a command may be sent to the server now."""
        # Read without the lock: a command that slips through while the
        # breaker opens meets the same timeout that opened it, nothing worse.
        if self._open_until is None:
            return
        with self._lock:
            if self._open_until is None:
                return
            if self._probing or self._clock() < self._open_until:
                raise CircuitOpen(
                    f"Redis at {self.server} did not answer recently; not asked."
                )
            self._probing = True

    def answered(self):
        """The server answered (a result or an error reply): close the breaker."""
        if self._open_until is None:
            return
        with self._lock:
            if self._open_until is None:
                return
            self._open_until = None
            self._probing = False
        logger.info("Redis at %s answers again: commands are sent to it.", self.server)

    def unreachable(self, seconds):
        """The server could not be reached: open for `seconds` (again).

        Returns whether this failure opened a closed breaker.
        """
        with self._lock:
            opened = self._open_until is None
            self._open_until = self._clock() + seconds
            self._probing = False
        if opened:
            _count_opening()
            logger.error(
                "Redis at %s did not answer: no command is sent to it for %s s.",
                self.server,
                seconds,
            )
        return opened


_registry_lock = threading.Lock()
_breakers = {}
_openings = 0


def breaker_for(server):
    """The process's breaker for one server (`host:port`, or a socket path)."""
    with _registry_lock:
        breaker = _breakers.get(server)
        if breaker is None:
            breaker = _breakers[server] = Breaker(server)
        return breaker


def _count_opening():
    global _openings
    with _registry_lock:
        _openings += 1


def openings():
    """How many times a breaker of this process has opened since it started."""
    return _openings
