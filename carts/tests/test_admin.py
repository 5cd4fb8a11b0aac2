import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import StaffFactory, UserFactory
from accounts.tests.otp import log_in_to_the_admin
from carts.tests.factories import CartFactory, CartItemFactory
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

CARTS = "/admin/carts/cart/"


def change_url(cart):
    return f"{CARTS}{cart.pk}/change/"


@pytest.fixture
def staff_client(client):
    """A staff member allowed to view carts (not a superuser)."""
    staff = StaffFactory()
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="carts", codename="view_cart")
    )
    client.force_login(staff)
    return client


def test_staff_see_the_carts_with_their_owner_lines_and_units(staff_client):
    cart = CartFactory(user__email="ada@example.com")
    CartItemFactory(cart=cart, quantity=2)
    CartItemFactory(cart=cart, quantity=3)
    CartFactory(user=None)

    response = staff_client.get(CARTS)

    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert [(row.user, row.line_count, row.unit_count) for row in rows] == [
        (None, 0, None),
        (cart.user, 2, 5),
    ]
    assert "ada@example.com" in response.text


@pytest.mark.parametrize(
    ("owner", "expected"), [("customer", ["customer"]), ("anonymous", [None])]
)
def test_the_changelist_filters_customers_and_anonymous_carts(
    staff_client, owner, expected
):
    CartFactory(user__email="customer@example.com")
    CartFactory(user=None)

    response = staff_client.get(CARTS, {"owner": owner})

    owners = [
        row.user and row.user.email.split("@")[0]
        for row in response.context["cl"].result_list
    ]
    assert owners == expected


def test_the_changelist_costs_the_same_queries_for_1_or_10_carts(staff_client):
    def queries_for_the_changelist():
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(CARTS).status_code == 200
        return len(captured)

    CartItemFactory()
    with_one = queries_for_the_changelist()
    CartItemFactory.create_batch(9)

    assert queries_for_the_changelist() == with_one


def test_the_cart_page_shows_its_lines_read_only_at_current_prices(staff_client):
    cart = CartFactory()
    CartItemFactory(
        cart=cart, product=ProductFactory(name="Blue Mug", price="3.50"), quantity=2
    )

    response = staff_client.get(change_url(cart))

    assert response.status_code == 200
    assert "Blue Mug" in response.text
    assert "7.00" in response.text
    assert not response.context["has_change_permission"]
    assert not response.context["has_delete_permission"]
    assert 'name="items-0-quantity"' not in response.text


def test_carts_cannot_be_added_or_deleted_in_the_admin(staff_client):
    cart = CartFactory()

    add = staff_client.get(f"{CARTS}add/")
    delete = staff_client.post(f"{CARTS}{cart.pk}/delete/", {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert CartFactory._meta.model.objects.filter(pk=cart.pk).exists()


def test_a_superuser_opens_the_carts_admin(client):
    log_in_to_the_admin(client, StaffFactory(is_superuser=True))
    cart = CartFactory()

    assert client.get(CARTS).status_code == 200
    assert client.get(change_url(cart)).status_code == 200


def test_a_customer_cannot_reach_the_carts_admin(client):
    client.force_login(UserFactory())

    response = client.get(CARTS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
