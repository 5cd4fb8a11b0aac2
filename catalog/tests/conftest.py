import pytest
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
