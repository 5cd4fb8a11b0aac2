import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import StaffFactory, UserFactory


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def staff_client(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def customer_client():
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
