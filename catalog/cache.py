"""The catalog's read cache in Redis, built so that it cannot serve stale data.

Every entry is stored with the catalog version it was built under, a random
token that every committed catalog change replaces (`invalidate()`), and is
served only while that version is current. Redis errors never fail a read:
the caller builds the answer from the database. Why no entry can go stale,
even across a Redis outage: docs/catalog-cache.md.
"""

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import redis_breaker

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"

_missed_lock = threading.Lock()
# Bumps of this process that did not reach Redis.
_missed_bumps = 0
# (missed bumps, breaker openings) as they were when this process last
# replaced the version: a read replaces it again when either has grown.
_replaced_after = (0, 0)


def _log_unavailable(error: Exception, message: str, *args: object) -> None:
    # A command the breaker kept from Redis: the breaker logged the outage.
    if not isinstance(error, redis_breaker.CircuitOpen):
        logger.error(message, *args, exc_info=error)


def _new_version() -> str | None:
    # Another process may add one at the same moment: whichever landed first
    # is the version.
    cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(VERSION_KEY)


def bump() -> None:
    """Replace the version now, so that no entry stored before is served."""
    global _missed_bumps
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as error:
        with _missed_lock:
            _missed_bumps += 1
        # Logged even while the breaker is open: a change is waiting.
        logger.error(
            "Catalog cache unavailable: the version was not replaced; it will be "
            "before the next read",
            exc_info=None if isinstance(error, redis_breaker.CircuitOpen) else error,
        )


def invalidate() -> None:
    """Stop serving every cached catalog entry once the current transaction commits."""
    transaction.on_commit(bump)


def _replace_version_if_owed() -> None:
    """Replace the version if this process missed a bump or saw Redis unreachable.

    Either since it last replaced the version (docs/catalog-cache.md).
    Raises when Redis cannot be reached.
    """
    global _replaced_after
    owed = (_missed_bumps, redis_breaker.openings())
    if owed != _replaced_after:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        _replaced_after = owed


def make_key(name: str, params: Iterable[object] = ()) -> str:
    """Key of one cached answer: the kind of answer and its inputs."""
    digest = hashlib.sha256(repr(tuple(params)).encode()).hexdigest()[:32]
    return f"catalog:{name}:{digest}"


@dataclass(frozen=True)
class Read[T]:
    """What one read of the cache found, and where a build of it is stored.

    `value` is None when there is no entry of the current version; `version`
    is None when Redis is unreachable (nothing is stored then).
    """

    name: str
    key: str
    version: str | None
    value: T | None = None


def read[T](name: str, params: Iterable[object]) -> Read[T]:
    """Read the entry for (name, params) and the current version: one round trip."""
    key = make_key(name, params)
    try:
        _replace_version_if_owed()
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            return Read(name, key, _new_version())
    except Exception as error:
        _log_unavailable(error, "Catalog cache unavailable: reading %s failed", name)
        return Read(name, key, None)
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return Read(name, key, version, entry[1])
    return Read(name, key, version)


def store[T](found: Read[T], value: T, *, until: datetime | None = None) -> None:
    """Store `value` as the entry `found` (a Read) looked for, under its version.

    `until`: when the value stops being right by itself (a sale starts or
    ends); the entry is not kept past it.
    """
    if found.version is None:
        return
    timeout: float = settings.CATALOG_CACHE_SECONDS
    if until is not None:
        timeout = min(timeout, (until - timezone.now()).total_seconds())
        if timeout <= 0:
            return
    try:
        cache.set(found.key, (found.version, value), timeout=timeout)
    except Exception as error:
        _log_unavailable(
            error, "Catalog cache unavailable: storing %s failed", found.name
        )


def fill[T](
    found: Read[T],
    build: Callable[[], T],
    *,
    valid_until: Callable[[], datetime | None] | None = None,
) -> T:
    """Return what `found` (a Read) holds, else build it and store it under its version.

    `build` is called (and its result returned) when there was no entry or
    Redis is unreachable; exceptions from `build` pass through uncached.
    `valid_until`, called first, brings what the value shows up to date and
    says until when it stays right (see store()).
    """
    if found.value is not None:
        return found.value
    until = valid_until() if valid_until is not None else None
    value = build()
    store(found, value, until=until)
    return value


def cached[T](
    name: str,
    params: Iterable[object],
    build: Callable[[], T],
    *,
    valid_until: Callable[[], datetime | None] | None = None,
) -> T:
    """Return the cached value for (name, params), else build and cache it."""
    return fill(read(name, params), build, valid_until=valid_until)
