import pytest
from rest_framework.test import APIClient

from accounts.tests.clock import ratelimit_clock  # noqa: F401
from accounts.tests.factories import StaffFactory, UserFactory


@pytest.fixture
def customer():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def staff():
    return StaffFactory()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def customer_client(customer):
    return client_for(customer)


@pytest.fixture
def staff_client(staff):
    return client_for(staff)
