"""Settings for the test suite: production settings on the local services.

Tests run in production mode (DJANGO_DEBUG false) against a real PostgreSQL
and Redis, by default the local servers; DATABASE_URL and REDIS_URL point
them elsewhere. Only what must never reach production is set here.
"""

import os

# Parallel test runs (pytest-xdist) each get their own Redis database.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
_redis_db = 15 - int(_worker or 0) % 8

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_HTTPS", "false")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopswift")
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{_redis_db}")

from shopswift.settings import *  # noqa: E402, F403

# Argon2 is deliberately slow; the tests hash thousands of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
