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

The one window left is a bump that cannot reach Redis (Redis down during a
write while still holding entries afterwards); `CATALOG_CACHE_SECONDS` bounds
how long such entries live.

Redis errors never fail a read: they are logged and the caller builds the
answer from the database. This is done here rather than with django-redis's
global DJANGO_REDIS_IGNORE_EXCEPTIONS because the rate limits must see real
cache errors.

Tests run inside a transaction that never commits; wrap a write in
`django_capture_on_commit_callbacks(execute=True)` to see its invalidation.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"


def _new_version():
    # Another process may add one at the same moment: whichever landed first
    # is the version.
    cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(VERSION_KEY)


def bump():
    """Replace the version now, so that no entry stored before is served."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.exception("Catalog cache unavailable: the version was not replaced")


def invalidate():
    """Stop serving every cached catalog entry once the current transaction commits."""
    transaction.on_commit(bump)


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
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            return Read(name, key, _new_version())
    except Exception:
        logger.exception("Catalog cache unavailable: reading %s failed", name)
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
    except Exception:
        logger.exception("Catalog cache unavailable: storing %s failed", found.name)


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
