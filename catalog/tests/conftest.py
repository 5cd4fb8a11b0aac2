import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import StaffFactory, UserFactory


@pytest.fixture
def staff():
    return StaffFactory()


def client_of(user):
    """An API client that sends the user's access token, as real clients do.

    A real credential rather than force_authenticate: the catalog's cached
    reads tell anonymous requests by their headers before DRF runs.
    """
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def staff_client(staff):
    return client_of(staff)


@pytest.fixture
def customer_client():
    return client_of(UserFactory())


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def migrate(targets):
    """Migrate the test database to `targets`; return the apps as they leave it."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(scope="module")
def latest_schema_afterwards(django_db_setup, django_db_blocker):
    """Every app's latest migrations again once this module's tests are done.

    Until then each test migrates back from where the one before left the
    schema, a few migrations, rather than from the latest.
    """
    yield
    with django_db_blocker.unblock():
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
