"""Sales, reached for by someone not allowed to run them.

A sale changes what every shopper pays, so only staff holding the sale
permissions (catalog.view_sale, add_sale, change_sale, delete_sale) may
list, add, change or delete one, in the admin or through the API's
`sales/` (accounts.permissions.HasAdminPermissions asks the same
permissions). The attackers: a customer, and a staff member who holds
every other catalog permission (who may edit products and their prices,
but not run sales). The variant endpoints that staff write do not take a
sale price.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import StaffFactory, SuperuserFactory
from catalog.models import ProductVariant, Sale
from catalog.tests.factories import SaleFactory
from core.testing import assert_problem
from tests.security.conftest import bearer

pytestmark = pytest.mark.django_db

SALES = "/admin/catalog/sale/"
SALE_PERMISSIONS = ["view_sale", "add_sale", "change_sale", "delete_sale"]
HOUR = timedelta(hours=1)


def sales_state():
    """Every sale with what it covers, and every variant's sale price."""
    return {
        "sales": sorted(
            (
                sale.name,
                sale.kind,
                sale.value,
                sale.starts_at,
                sale.ends_at,
                sale.is_active,
                sorted(sale.products.values_list("pk", flat=True)),
                sorted(sale.variants.values_list("pk", flat=True)),
                sorted(sale.categories.values_list("pk", flat=True)),
            )
            for sale in Sale.objects.all()
        ),
        "sale_prices": sorted(
            ProductVariant.objects.values_list("sku", "price", "sale_price")
        ),
    }


def sale_form(sale=None, **changes):
    """The admin's sale form as a browser posts it (a new sale unless given)."""
    now = timezone.localtime()
    starts = timezone.localtime(sale.starts_at) if sale else now - HOUR
    ends = timezone.localtime(sale.ends_at) if sale else now + HOUR
    form = {
        "name": sale.name if sale else "Everything free",
        "kind": Sale.Kind.PERCENTAGE,
        "value": str(sale.value) if sale else "99",
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
        "is_active": "on",
    }
    if sale:
        form["products"] = list(sale.products.values_list("pk", flat=True))
    form.update(changes)
    return form


@pytest.fixture
def sale(store):
    """10 % off the kettle, running now."""
    return SaleFactory(
        name="Kettle week", value=Decimal("10"), products=[store["kettle"]]
    )


@pytest.fixture
def unchanged_sales(sale):
    before = sales_state()
    yield
    assert sales_state() == before


@pytest.fixture
def catalog_staff():
    """Staff holding every catalog permission but the sales'."""
    staff = StaffFactory(email="catalog-staff@example.com")
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog").exclude(
            codename__in=SALE_PERMISSIONS
        )
    )
    return staff


@pytest.fixture
def sales_staff():
    """Staff holding the sale permissions, and no other."""
    staff = StaffFactory(email="sales-staff@example.com")
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog", codename__in=SALE_PERMISSIONS
        )
    )
    return staff


def admin_as(user):
    client = Client()
    client.force_login(user)
    return client


def sale_requests(sale):
    """Every admin request that lists, adds, changes or deletes a sale."""
    return [
        ("get", SALES, None),
        ("get", f"{SALES}add/", None),
        ("post", f"{SALES}add/", sale_form()),
        ("get", f"{SALES}{sale.pk}/change/", None),
        ("post", f"{SALES}{sale.pk}/change/", sale_form(sale, value="99")),
        ("get", f"{SALES}{sale.pk}/delete/", None),
        ("post", f"{SALES}{sale.pk}/delete/", {"post": "yes"}),
        (
            "post",
            SALES,
            {"action": "delete_selected", "_selected_action": [sale.pk], "post": "yes"},
        ),
    ]


# --- In the admin -------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged_sales")
def test_a_customer_is_sent_to_the_admins_login_for_every_sale_page(alice, sale):
    client = admin_as(alice)

    for method, path, data in sale_requests(sale):
        response = getattr(client, method)(path, data)

        assert response.status_code == 302, (method, path)
        assert response["Location"].startswith("/admin/login/"), (method, path)


@pytest.mark.usefixtures("unchanged_sales")
def test_staff_without_the_sale_permissions_are_refused_every_sale_page(
    catalog_staff, sale
):
    client = admin_as(catalog_staff)

    for method, path, data in sale_requests(sale):
        response = getattr(client, method)(path, data)

        assert response.status_code == 403, (method, path)


def test_the_admin_index_offers_them_no_sales(catalog_staff):
    response = admin_as(catalog_staff).get("/admin/")

    assert response.status_code == 200
    catalog = next(
        app for app in response.context["app_list"] if app["app_label"] == "catalog"
    )
    assert "Sale" not in [model["object_name"] for model in catalog["models"]]


def test_staff_with_the_sale_permissions_list_add_change_and_delete_sales(
    sales_staff, sale, store
):
    client = admin_as(sales_staff)
    kettle = store["kettle"].variants.get()

    listed = client.get(SALES)
    added = client.post(f"{SALES}add/", sale_form(name="Teapot days"))
    changed = client.post(
        f"{SALES}{sale.pk}/change/", sale_form(sale, value="50", name="Kettle half")
    )
    halved = ProductVariant.objects.get(pk=kettle.pk).sale_price
    deleted = client.post(f"{SALES}{sale.pk}/delete/", {"post": "yes"})

    assert [listed.status_code, added.status_code, changed.status_code] == [
        200,
        302,
        302,
    ]
    assert deleted.status_code == 302
    assert halved == Decimal("10.00")  # half of 19.99, rounded half up
    assert list(Sale.objects.values_list("name", flat=True)) == ["Teapot days"]
    assert ProductVariant.objects.get(pk=kettle.pk).sale_price is None


# --- Through the API ----------------------------------------------------------------


NEARLY_FREE = {
    "name": "Free",
    "kind": "percentage",
    "value": "99",
    "starts_at": "2020-01-01T00:00:00Z",
    "ends_at": "2999-01-01T00:00:00Z",
}
SALE_CALLS = [
    ("get", "", None),
    ("get", "{pk}/", None),
    ("post", "", NEARLY_FREE),
    ("patch", "{pk}/", {"value": "99"}),
    ("put", "{pk}/", NEARLY_FREE),
    ("delete", "{pk}/", None),
]


def sale_call(client, sale, method, suffix, body):
    path = f"/api/v1/sales/{suffix.format(pk=sale.pk)}"
    return getattr(client, method)(path, body, format="json")


@pytest.mark.usefixtures("unchanged_sales")
@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("customer", 403, "permission_denied"),
        ("catalog_staff", 403, "permission_denied"),
    ],
)
@pytest.mark.parametrize(("method", "suffix", "body"), SALE_CALLS)
def test_the_api_refuses_sales_to_everyone_the_admin_refuses(
    request, alice, catalog_staff, sale, who, status, code, method, suffix, body
):
    user = {"anonymous": None, "customer": alice, "catalog_staff": catalog_staff}[who]
    client = request.getfixturevalue("api_client") if user is None else bearer(user)

    response = sale_call(client, sale, method, suffix, body)

    assert_problem(response, status, code)


@pytest.mark.parametrize("who", ["sales_staff", "superuser"])
def test_staff_with_the_sale_permissions_run_sales_through_the_api(
    sales_staff, sale, who
):
    user = sales_staff if who == "sales_staff" else SuperuserFactory()
    client = bearer(user)

    statuses = [
        sale_call(client, sale, method, suffix, body).status_code
        for method, suffix, body in SALE_CALLS
    ]

    assert statuses == [200, 200, 201, 200, 200, 204]


@pytest.mark.usefixtures("unchanged_sales")
def test_a_sale_price_sent_with_a_variant_is_ignored(catalog_staff, store):
    kettle = store["kettle"]
    variant = kettle.variants.get()

    response = bearer(catalog_staff).patch(
        f"/api/v1/products/{kettle.slug}/variants/{variant.pk}/",
        {"sale_price": "0.01"},
        format="json",
    )

    assert response.status_code == 200
    assert "sale_price" not in response.json()
