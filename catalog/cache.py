"""The catalog's read cache in Redis, built so that it cannot serve stale data.

Design: the *catalog version* is a random token kept under one key, and
every cached entry is stored with the version it was built under. Any change
to products, categories or stock replaces the token once the change has
committed (`invalidate()`), so every entry stored before it stops matching
at once; nothing is deleted, an entry is only overwritten by its next build,
and expiry frees the memory of entries no longer read.

A read fetches the version and the entry together (one MGET, one round
trip) and serves the entry only if its version is the current one.

Why this cannot go stale:

- The version is replaced in `transaction.on_commit`, after the new rows are
  visible to other connections. Replacing it earlier would let a reader
  between the bump and the commit cache the old rows under the new version.
- A reader takes the version *before* it reads the database, so a reader that
  raced a commit stores its (possibly old) result under the old version,
  which no later read accepts (at worst it overwrites a newer entry, which
  costs the next reader a rebuild, never a stale answer).
- The token is random, not a counter: if Redis loses or evicts the version
  key, a new token can never equal the version of an entry still held.
- Every write path calls it: `Product.save()`/`delete()`, `Category.save()`/
  `delete()` and the catalog QuerySets' `update()`, `delete()`,
  `bulk_create()` and `bulk_update()` (so admin bulk actions and the stock
  service's conditional UPDATEs too). Code that changes catalog rows any other
  way (raw SQL) must call `invalidate()` itself.

A bump that cannot reach Redis is the hard case. Redis may hang (or drop
off the network) during a write and come back still holding every entry
under the old version, now stale. Nothing written during the outage can
tell readers, so each process assumes the worst on its own:

- A process whose bump failed owes one: its next read replaces the version
  before it reads anything (`_missed_bumps`).
- A process that found Redis unreachable (its circuit breaker opened,
  core/redis_breaker.py) cannot know which bumps others missed
  meanwhile, so it too replaces the version before its first read after the
  outage. A bump that was not needed only costs cache misses; a bump
  skipped would serve a stale price.

Both are counters compared with what the last replacement saw, so a failure
that races a replacement makes the next read replace the version again. The
replacement is itself a Redis command: while Redis is unreachable it fails,
and the read is built from the database and not stored.

What remains: a process that sent nothing to Redis during the whole outage
cannot know of it, and may serve an old entry until a process that saw the
outage (the writer whose bump failed among them) reads the catalog again
once its breaker lets it reach Redis, and so replaces the version: within
REDIS_BREAKER_SECONDS of Redis's return while that process has reads to
serve, and never beyond CATALOG_CACHE_SECONDS, the life of every entry.
Closing that gap would take a record of missed bumps outside Redis, read
before every cached answer.

Redis errors never fail a read: they are logged and the caller builds the
answer from the database. This is done here rather than with django-redis's
global DJANGO_REDIS_IGNORE_EXCEPTIONS because the rate limits must see real
cache errors. A read or store that the breaker kept from Redis is not
logged: the breaker logged the outage once.

Tests run inside a transaction that never commits; wrap a write in
`django_capture_on_commit_callbacks(execute=True)` to see its invalidation.
"""

import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from core import redis_breaker

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"

_missed_lock = threading.Lock()
# Bumps of this process that did not reach Redis.
_missed_bumps = 0
# (missed bumps, breaker openings) as they were when this process last
# replaced the version: a read replaces it again when either has grown.
_replaced_after = (0, 0)


def _log_unavailable(error, message, *args):
    # A command the breaker kept from Redis: the breaker logged the outage.
    if not isinstance(error, redis_breaker.CircuitOpen):
        logger.error(message, *args, exc_info=error)


def _new_version():
    # Another process may add one at the same moment: whichever landed first
    # is the version.
    cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(VERSION_KEY)


def bump():
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


def invalidate():
    """Stop serving every cached catalog entry once the current transaction commits."""
    transaction.on_commit(bump)


def _replace_version_if_owed():
    """Replace the version if this process missed a bump or saw Redis unreachable.

    Either since it last replaced the version (see the module's docstring).
    Raises when Redis cannot be reached.
    """
    global _replaced_after
    owed = (_missed_bumps, redis_breaker.openings())
    if owed != _replaced_after:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        _replaced_after = owed


def make_key(name, params=()):
    """Key of one cached answer: the kind of answer and its inputs."""
    digest = hashlib.sha256(repr(tuple(params)).encode()).hexdigest()[:32]
    return f"catalog:{name}:{digest}"


@dataclass(frozen=True)
class Read:
    """What one read of the cache found, and where a build of it is stored.

    `value` is None when there is no entry of the current version; `version`
    is None when Redis is unreachable (nothing is stored then).
    """

    name: str
    key: str
    version: str | None
    value: object = None


def read(name, params):
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


def store(found, value):
    """Store `value` as the entry `found` (a Read) looked for, under its version."""
    if found.version is None:
        return
    try:
        cache.set(
            found.key,
            (found.version, value),
            timeout=settings.CATALOG_CACHE_SECONDS,
        )
    except Exception as error:
        _log_unavailable(
            error, "Catalog cache unavailable: storing %s failed", found.name
        )


def fill(found, build):
    """Return what `found` (a Read) holds, else build it and store it under its version.

    `build` is called (and its result returned) when there was no entry or
    Redis is unreachable; exceptions from `build` pass through uncached.
    """
    if found.value is not None:
        return found.value
    value = build()
    store(found, value)
    return value


def cached(name, params, build):
    """Return the cached value for (name, params), else build and cache it."""
    return fill(read(name, params), build)
