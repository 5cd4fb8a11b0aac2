import pytest
from django.contrib.auth.models import Permission

from accounts.tests.clock import ratelimit_clock  # noqa: F401
from accounts.tests.factories import StaffFactory

# The customers and staff of the orders' tests, with their API clients.
from orders.tests.conftest import (  # noqa: F401
    customer,
    customer_client,
    staff,
    staff_client,
)


@pytest.fixture
def clerk_client(client):
    """A staff member holding the pricing permissions (not a superuser), in
    the admin's pages."""
    clerk = StaffFactory()
    clerk.user_permissions.set(
        Permission.objects.filter(content_type__app_label="pricing")
    )
    client.force_login(clerk)
    return client
