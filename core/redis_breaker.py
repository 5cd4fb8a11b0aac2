"""A circuit breaker per Redis server, so that a hung Redis costs one timeout.

A hung Redis accepts connections and never answers, so every command would
wait for the socket timeout. Once a command fails to reach a server, every
command to it fails at once with `CircuitOpen` for REDIS_BREAKER_SECONDS,
then one probes it. `CircuitOpen` is a redis-py ConnectionError, which every
caller already copes with. The state is per process and per server;
`openings()` lets the catalog cache tell that Redis was away
(docs/catalog-cache.md).
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

    # Both checks first read the state without the lock: a command that slips
    # through while the breaker opens meets the same timeout that opened it,
    # nothing worse.

    def before_command(self):
        """Raise CircuitOpen unless a command may be sent to the server now."""
        if self._open_until is not None:
            self._refuse_or_probe()

    def answered(self):
        """The server answered (a result or an error reply): close the breaker."""
        if self._open_until is not None:
            self._close()

    def _refuse_or_probe(self):
        with self._lock:
            if self._open_until is None:
                return
            if self._probing or self._clock() < self._open_until:
                raise CircuitOpen(
                    f"Redis at {self.server} did not answer recently; not asked."
                )
            self._probing = True

    def _close(self):
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
_breakers: dict[str, Breaker] = {}
_openings = 0


def breaker_for(server: str) -> Breaker:
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


def openings() -> int:
    """How many times a breaker of this process has opened since it started."""
    return _openings
