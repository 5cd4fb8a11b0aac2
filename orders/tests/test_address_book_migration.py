"""Migration 0006: each address book starts with the last order's address."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import address_data
from core.testing import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("accounts", "0004_address_book"),
    ("orders", "0005_order_idempotency_fingerprint"),
]
AFTER = [("orders", "0006_address_book_from_last_orders")]


def test_migration_0006_keeps_each_customers_last_address_as_their_default(
    latest_schema_afterwards,
):
    apps = migrate(BEFORE)
    User = apps.get_model("accounts", "User")
    Order = apps.get_model("orders", "Order")
    Address = apps.get_model("accounts", "Address")
    ada, bob, carol = (
        User.objects.create(email=f"{name}@example.com")
        for name in ("ada", "bob", "carol")
    )
    now = timezone.now()
    for number, (user, city, days_ago) in enumerate(
        [(ada, "Bath", 3), (ada, "York", 1), (bob, "Leeds", 2)]
    ):
        order = Order.objects.create(
            number=f"SW-{number}",
            user=user,
            subtotal=Decimal("10.00"),
            shipping_cost=Decimal("0.00"),
            total=Decimal("10.00"),
            currency="USD",
            shipping_address=address_data(city=city),
        )
        Order.objects.filter(pk=order.pk).update(
            created_at=now - timezone.timedelta(days=days_ago)
        )
    # Bob already keeps an address of his own: left as it is.
    Address.objects.create(user=bob, **address_data(city="Kept"))

    apps = migrate(AFTER)

    book = apps.get_model("accounts", "Address").objects.order_by("user__email")
    assert list(book.values_list("user__email", "city", "is_default_shipping")) == [
        ("ada@example.com", "York", True),
        ("bob@example.com", "Kept", False),
    ]
    assert not carol.addresses.exists()
