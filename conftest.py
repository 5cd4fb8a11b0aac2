"""Fixtures that every app's tests use."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from rest_framework.test import APIClient

from core.testing import migrate
from core.testing_servers import SuiteServers


def pytest_configure(config):
    """Start the embedded PostgreSQL and Redis when the settings use them.

    Under pytest-xdist the main process starts them, before its workers.
    """
    if hasattr(config, "workerinput"):
        return
    from django.conf import settings

    servers = SuiteServers(
        database_dir=settings.DATABASE_EMBEDDED and settings.EMBEDDED_DATABASE_DIR,
        redis=settings.REDIS_EMBEDDED,
    )
    servers.start()
    config.stash[SERVERS] = servers


def pytest_unconfigure(config):
    servers = config.stash.get(SERVERS, None)
    if servers is not None:
        servers.stop()


SERVERS = pytest.StashKey[SuiteServers]()


@pytest.fixture(scope="session", autouse=True)
def _collected_static_files(tmp_path_factory):
    """Collect the static files once, as a deployment does, into this run's folder.

    Production pages name static files by their content hash, read from the
    manifest that collectstatic writes; a page naming a missing file fails.
    """
    with override_settings(STATIC_ROOT=tmp_path_factory.mktemp("static")):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty Redis database (counters, cached pages)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture(scope="module")
def latest_schema_afterwards(django_db_setup, django_db_blocker):
    """Every app's latest migrations again once this module's tests are done.

    Until then each test migrates back from where the one before left the
    schema, a few migrations, rather than from the latest.
    """
    yield
    with django_db_blocker.unblock():
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
