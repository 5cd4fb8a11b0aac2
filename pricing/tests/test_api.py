"""/api/v1/tax-rates/ and /api/v1/vouchers/: staff manage them, as in the admin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from core.testing import assert_problem
from orders.tests.conftest import client_for
from pricing import services
from pricing.models import TaxRate, Voucher

pytestmark = pytest.mark.django_db

TAX_RATES = "/api/v1/tax-rates/"
VOUCHERS = "/api/v1/vouchers/"
HOUR = timedelta(hours=1)


@pytest.fixture
def manager():
    """A staff member holding the admin's tax rate and voucher permissions."""
    manager = StaffFactory()
    manager.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="pricing",
            content_type__model__in=["taxrate", "voucher"],
        )
    )
    return manager


@pytest.fixture
def staff_client(manager):
    return client_for(manager)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def tax_rate(country="GB", tax_class="standard", rate="20.00"):
    return services.save_tax_rate(
        rate=TaxRate(country=country, tax_class=tax_class, rate=Decimal(rate))
    )


def voucher(code="SUMMER10", *, categories=None, products=None, **fields):
    """A voucher saved through the service: 10 % off, from an hour ago."""
    fields = {
        "kind": Voucher.Kind.PERCENTAGE,
        "value": Decimal("10.00"),
        "starts_at": timezone.now() - HOUR,
        **fields,
    }
    return services.save_voucher(
        voucher=Voucher(code=code, **fields), categories=categories, products=products
    )


def redeem(saved, order_number):
    with transaction.atomic():
        services.redeem_voucher(
            saved, order_number=order_number, user=None, email="ada@example.com"
        )


# --- Tax rates ------------------------------------------------------------------------


def test_staff_add_change_and_delete_a_tax_rate(staff_client):
    added = staff_client.post(
        TAX_RATES,
        {"country": "gb", "tax_class": "books", "rate": "5"},
        format="json",
    )
    url = f"{TAX_RATES}{added.json()['id']}/"
    changed = staff_client.patch(url, {"rate": "0.00"}, format="json")
    read = staff_client.get(url)
    deleted = staff_client.delete(url)

    assert added.status_code == 201
    assert added.json() == {
        "id": added.json()["id"],
        "country": "GB",
        "tax_class": "books",
        "rate": "5.00",
    }
    assert changed.status_code == 200
    assert read.json()["rate"] == "0.00"
    assert deleted.status_code == 204
    assert not TaxRate.objects.exists()


def test_a_tax_rate_without_a_class_is_the_standard_rate(staff_client):
    response = staff_client.post(
        TAX_RATES, {"country": "DE", "rate": "19.00"}, format="json"
    )

    assert response.status_code == 201
    assert TaxRate.objects.get().tax_class == "standard"


def test_staff_list_the_tax_rates_by_country_in_a_fixed_number_of_queries(
    staff_client, django_assert_num_queries
):
    tax_rate("GB", "standard", "20.00")
    tax_rate("GB", "books", "0.00")
    tax_rate("DE", "standard", "19.00")

    # The manager's permissions (2), the count and the page.
    with django_assert_num_queries(4):
        response = staff_client.get(TAX_RATES)

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [
        (rate["country"], rate["tax_class"], rate["rate"])
        for rate in response.json()["results"]
    ] == [
        ("DE", "standard", "19.00"),
        ("GB", "books", "0.00"),
        ("GB", "standard", "20.00"),
    ]


@pytest.mark.parametrize("country", ["GB", "gb"])
def test_a_second_rate_for_a_class_in_a_country_is_400_naming_tax_class(
    staff_client, country
):
    tax_rate("GB", "standard", "20.00")

    response = staff_client.post(
        TAX_RATES,
        {"country": country, "tax_class": "standard", "rate": "5.00"},
        format="json",
    )

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"] == {
        "tax_class": ["This country has a rate for this class already."]
    }
    assert TaxRate.objects.get().rate == Decimal("20.00")


def test_changing_a_rate_to_a_class_the_country_has_is_400_naming_tax_class(
    staff_client,
):
    tax_rate("GB", "standard", "20.00")
    books = tax_rate("GB", "books", "0.00")

    response = staff_client.patch(
        f"{TAX_RATES}{books.pk}/", {"tax_class": "standard"}, format="json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["tax_class"]
    books.refresh_from_db()
    assert books.tax_class == "books"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "GBR"}, "country"),
        ({"country": ""}, "country"),
        ({"rate": "100.00"}, "rate"),
        ({"rate": "-1.00"}, "rate"),
        ({"rate": "twenty"}, "rate"),
        ({"tax_class": "reduced rate"}, "tax_class"),
    ],
    ids=[
        "unknown-country",
        "three-letters",
        "no-country",
        "100-percent",
        "negative",
        "not-a-number",
        "class-not-a-slug",
    ],
)
def test_a_bad_tax_rate_is_400_naming_the_field(staff_client, changes, field):
    body = {"country": "GB", "tax_class": "standard", "rate": "20.00", **changes}

    response = staff_client.post(TAX_RATES, body, format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == [field]
    assert not TaxRate.objects.exists()


# --- Vouchers -------------------------------------------------------------------------


def voucher_body(**changes):
    starts_at = timezone.now().replace(microsecond=0) - HOUR
    return {
        "code": "SUMMER10",
        "kind": "percentage",
        "value": "10.00",
        "min_subtotal": "50.00",
        "starts_at": iso(starts_at),
        "ends_at": iso(starts_at + 24 * HOUR),
        "usage_limit": 100,
        "once_per_customer": True,
        "categories": [],
        "products": [],
        **changes,
    }


def test_staff_add_a_voucher_for_categories_and_products_by_slug(staff_client):
    CategoryFactory(slug="tea")
    ProductFactory(slug="mug")
    body = voucher_body(code="summer10", categories=["tea"], products=["mug"])

    response = staff_client.post(VOUCHERS, body, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "id": Voucher.objects.get().pk,
        **body,
        "code": "SUMMER10",
        "used_count": 0,
    }


def test_a_voucher_given_only_its_code_and_kind_is_open_and_unlimited(staff_client):
    response = staff_client.post(
        VOUCHERS, {"code": "FREESHIP", "kind": "free_shipping"}, format="json"
    )

    assert response.status_code == 201
    saved = response.json()
    assert {name: saved[name] for name in saved if name != "starts_at"} == {
        "id": saved["id"],
        "code": "FREESHIP",
        "kind": "free_shipping",
        "value": "0.00",
        "min_subtotal": None,
        "ends_at": None,
        "usage_limit": None,
        "once_per_customer": False,
        "categories": [],
        "products": [],
        "used_count": 0,
    }
    assert Voucher.objects.get().starts_at <= timezone.now()


def test_a_voucher_changed_through_the_api_keeps_what_it_covers(staff_client):
    mug = ProductFactory(slug="mug")
    saved = voucher(products=[mug])
    url = f"{VOUCHERS}{saved.pk}/"

    changed = staff_client.patch(url, {"value": "15.00"}, format="json")
    widened = staff_client.patch(url, {"products": []}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["value"], changed.json()["products"]) == ("15.00", ["mug"])
    assert widened.json()["products"] == []
    assert not saved.products.exists()


def test_used_count_is_read_only(staff_client):
    saved = voucher()
    redeem(saved, "SS-0001")

    created = staff_client.post(
        VOUCHERS, voucher_body(code="WINTER", used_count=7), format="json"
    )
    changed = staff_client.patch(
        f"{VOUCHERS}{saved.pk}/", {"used_count": 0}, format="json"
    )

    assert (created.status_code, created.json()["used_count"]) == (201, 0)
    assert (changed.status_code, changed.json()["used_count"]) == (200, 1)
    assert Voucher.objects.get(pk=saved.pk).used_count == 1


def test_a_code_another_voucher_has_in_any_case_is_400_naming_code(staff_client):
    voucher("SUMMER10")

    response = staff_client.post(VOUCHERS, voucher_body(code="summer10"), format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["code"]
    assert Voucher.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"value": "100.01"}, "value"),
        ({"value": "0.00"}, "value"),
        ({"kind": "fixed", "value": "0.00"}, "value"),
        ({"ends_at": iso(timezone.now() - 2 * HOUR)}, "ends_at"),
        ({"categories": ["no-such-category"]}, "categories"),
        ({"products": ["no-such-product"]}, "products"),
        ({"kind": "half-price"}, "kind"),
        ({"code": "   "}, "code"),
        ({"usage_limit": -1}, "usage_limit"),
        ({"min_subtotal": "-5.00"}, "min_subtotal"),
    ],
    ids=[
        "percentage-over-100",
        "percentage-zero",
        "fixed-zero",
        "ends-before-start",
        "unknown-category",
        "unknown-product",
        "unknown-kind",
        "blank-code",
        "negative-limit",
        "negative-minimum",
    ],
)
def test_a_bad_voucher_is_400_naming_the_field_and_nothing_saved(
    staff_client, changes, field
):
    response = staff_client.post(VOUCHERS, voucher_body(**changes), format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == [field]
    assert not Voucher.objects.exists()


def test_a_usage_limit_below_the_uses_taken_is_400_naming_it(staff_client):
    saved = voucher(usage_limit=5)
    redeem(saved, "SS-0001")
    redeem(saved, "SS-0002")

    response = staff_client.patch(
        f"{VOUCHERS}{saved.pk}/", {"usage_limit": 1}, format="json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["usage_limit"]
    assert Voucher.objects.get(pk=saved.pk).usage_limit == 5


def test_staff_list_vouchers_in_a_fixed_number_of_queries(
    staff_client, django_assert_num_queries
):
    teas = CategoryFactory(slug="tea")
    for number in range(3):
        voucher(f"CODE{number}", categories=[teas], products=[ProductFactory()])

    # The manager's permissions (2), the count, the page, its categories
    # and its products.
    with django_assert_num_queries(6):
        response = staff_client.get(VOUCHERS)

    assert response.status_code == 200
    assert [saved["code"] for saved in response.json()["results"]] == [
        "CODE2",
        "CODE1",
        "CODE0",
    ]
    assert all(saved["categories"] == ["tea"] for saved in response.json()["results"])


def test_an_unused_voucher_is_deleted_and_a_used_one_kept(staff_client):
    unused = voucher("UNUSED")
    used = voucher("USED")
    redeem(used, "SS-0001")

    deleted = staff_client.delete(f"{VOUCHERS}{unused.pk}/")
    kept = staff_client.delete(f"{VOUCHERS}{used.pk}/")

    assert deleted.status_code == 204
    assert_problem(kept, 409, "conflict")
    assert list(Voucher.objects.values_list("code", flat=True)) == ["USED"]


# --- Who may --------------------------------------------------------------------------


@pytest.mark.parametrize("url", [TAX_RATES, VOUCHERS])
def test_anonymous_callers_are_401(api_client, url):
    assert_problem(api_client.get(url), 401, "not_authenticated")
    assert_problem(
        api_client.post(url, {"code": "MINE"}, format="json"), 401, "not_authenticated"
    )


@pytest.mark.parametrize("url", [TAX_RATES, VOUCHERS])
def test_customers_are_403(customer_client, url):
    assert_problem(customer_client.get(url), 403, "permission_denied")
    assert_problem(
        customer_client.post(url, {"code": "MINE"}, format="json"),
        403,
        "permission_denied",
    )


def test_staff_without_the_permissions_are_refused():
    rate = tax_rate()
    saved = voucher()
    client = client_for(StaffFactory())  # a staff member without them

    responses = [
        client.get(TAX_RATES),
        client.patch(f"{TAX_RATES}{rate.pk}/", {"rate": "0.00"}, format="json"),
        client.get(VOUCHERS),
        client.post(VOUCHERS, voucher_body(code="MINE"), format="json"),
        client.delete(f"{VOUCHERS}{saved.pk}/"),
    ]

    for response in responses:
        assert_problem(response, 403, "permission_denied")
    assert TaxRate.objects.get().rate == Decimal("20.00")
    assert list(Voucher.objects.values_list("code", flat=True)) == ["SUMMER10"]


def test_staff_who_may_only_view_vouchers_may_not_add_one():
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_voucher"))
    client = client_for(viewer)

    listed = client.get(VOUCHERS)
    added = client.post(VOUCHERS, voucher_body(), format="json")

    assert listed.status_code == 200
    assert_problem(added, 403, "permission_denied")
    assert not Voucher.objects.exists()
