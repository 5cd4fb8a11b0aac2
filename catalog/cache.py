"""The catalog's read cache in Redis, built so that it cannot serve stale data.

Design: every cached entry's key contains the current *catalog version*, a
random token kept under one key. Any change to products, categories or stock
replaces the token once the change has committed (`invalidate()`), so every
entry written before it becomes unreachable at once; nothing is ever deleted
or updated in place, and expiry only frees the memory.

Why this cannot go stale:

- The version is replaced in `transaction.on_commit`, after the new rows are
  visible to other connections. Replacing it earlier would let a reader
  between the bump and the commit cache the old rows under the new version.
- A reader takes the version *before* it reads the database, so a reader that
  raced a commit stores its (possibly old) result under the old version,
  which no later reader looks up.
- The token is random, not a counter: if Redis loses or evicts the version
  key, a new token can never collide with the keys of entries still held.
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

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"


def current_version():
    """Return the catalog's version token, or None when Redis is unreachable."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # Another process may add one at the same moment: whichever
            # landed first is the version.
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:
        logger.exception("Catalog cache unavailable: reading the version failed")
        return None
    return version


def bump():
    """Replace the version now, orphaning every cached catalog entry."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.exception("Catalog cache unavailable: the version was not replaced")


def invalidate():
    """Orphan every cached catalog entry once the current transaction commits."""
    transaction.on_commit(bump)


def make_key(version, name, params=()):
    """Key of one cached answer: the version, the kind of answer, its inputs."""
    digest = hashlib.sha256(repr(tuple(params)).encode()).hexdigest()[:32]
    return f"catalog:{version}:{name}:{digest}"


def lookup(name, params):
    """Return the cached value for (name, params), or None (none, or no Redis)."""
    version = current_version()
    if version is None:
        return None
    try:
        return cache.get(make_key(version, name, params))
    except Exception:
        logger.exception("Catalog cache unavailable: reading %s failed", name)
        return None


def cached(name, params, build):
    """Return the cached value for (name, params), else build and cache it.

    `build` is called (and its result returned) when there is no entry or
    Redis is unreachable; exceptions from `build` pass through uncached.
    """
    version = current_version()
    if version is None:
        return build()
    key = make_key(version, name, params)
    try:
        value = cache.get(key)
    except Exception:
        logger.exception("Catalog cache unavailable: reading %s failed", name)
        return build()
    if value is not None:
        return value
    value = build()
    try:
        cache.set(key, value, timeout=settings.CATALOG_CACHE_SECONDS)
    except Exception:
        logger.exception("Catalog cache unavailable: storing %s failed", name)
    return value
