"""/api/v1/sales/: staff schedule sales through the API, as in the admin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from catalog.models import Product, Sale
from catalog.tests.conftest import client_of
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SaleFactory,
    SizedProductFactory,
)
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

SALES = "/api/v1/sales/"
HOUR = timedelta(hours=1)


@pytest.fixture
def staff_client():
    """A staff member holding the sale permissions (the admin's)."""
    staff = StaffFactory()
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog", codename__endswith="_sale"
        )
    )
    return client_of(staff)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def window(starts=-HOUR, ends=HOUR):
    now = timezone.now().replace(microsecond=0)
    return {"starts_at": iso(now + starts), "ends_at": iso(now + ends)}


def price_of(product):
    return Product.objects.get(pk=product.pk).price


def test_staff_schedule_a_sale_and_its_prices_apply_at_once(staff_client):
    mug = ProductFactory(slug="mug", price=Decimal("10.00"))
    teas = CategoryFactory(slug="tea")
    kettle = ProductFactory(price=Decimal("40.00"), category=teas)
    small = SizedProductFactory().variants.get(options={"Size": "S"})  # 12.00
    body = {
        "name": "Spring",
        "kind": "percentage",
        "value": "25.00",
        **window(),
        "categories": ["tea"],
        "products": ["mug"],
        "variants": [small.pk],
    }

    response = staff_client.post(SALES, body, format="json")

    assert response.status_code == 201
    assert response.json() == {"id": Sale.objects.get().pk, **body}
    small.refresh_from_db()
    assert (price_of(mug), price_of(kettle), small.sale_price) == (
        Decimal("7.50"),
        Decimal("30.00"),
        Decimal("9.00"),
    )


def test_a_sale_changed_or_deleted_through_the_api_reprices_at_once(staff_client):
    mug = ProductFactory(price=Decimal("10.00"))
    sale = SaleFactory(kind="fixed", value=Decimal("2.00"), products=[mug])
    url = f"{SALES}{sale.pk}/"

    changed = staff_client.patch(url, {"value": "3.00"}, format="json")
    price_while_changed = price_of(mug)
    deleted = staff_client.delete(url)

    assert changed.status_code == 200
    assert changed.json()["products"] == [mug.slug]  # what it covers, unchanged
    assert price_while_changed == Decimal("7.00")
    assert deleted.status_code == 204
    assert price_of(mug) == Decimal("10.00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (window(starts=HOUR, ends=-HOUR), "ends_at"),
        ({"kind": "percentage", "value": "100.00"}, "value"),
        ({"value": "0.00"}, "value"),
        ({"products": ["no-such-product"]}, "products"),
        ({"kind": "half-price"}, "kind"),
    ],
    ids=["ends-before-start", "100-percent", "zero", "unknown-product", "kind"],
)
def test_a_bad_sale_is_400_naming_the_field_and_nothing_changes(
    staff_client, changes, field
):
    mug = ProductFactory(slug="mug", price=Decimal("10.00"))
    body = {
        "name": "Bad",
        "kind": "fixed",
        "value": "1.00",
        **window(),
        "products": ["mug"],
        **changes,
    }

    response = staff_client.post(SALES, body, format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == [field]
    assert not Sale.objects.exists()
    assert price_of(mug) == Decimal("10.00")


def test_customers_may_not_read_or_write_sales(customer_client, api_client):
    SaleFactory()

    assert_problem(customer_client.get(SALES), 403, "permission_denied")
    assert_problem(
        customer_client.post(SALES, {"name": "Mine"}, format="json"),
        403,
        "permission_denied",
    )
    assert_problem(api_client.get(SALES), 401, "not_authenticated")
