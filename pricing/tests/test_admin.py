"""Tax rates and vouchers in the admin: the same rules as the API's services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from catalog.tests.factories import CategoryFactory, ProductFactory
from pricing import services
from pricing.models import TaxRate, Voucher

pytestmark = pytest.mark.django_db

TAX_RATES = "/admin/pricing/taxrate/"
VOUCHERS = "/admin/pricing/voucher/"
HOUR = timedelta(hours=1)


def tax_rate(country="GB", tax_class="standard", rate="20.00"):
    return services.save_tax_rate(
        rate=TaxRate(country=country, tax_class=tax_class, rate=Decimal(rate))
    )


def voucher(code="SUMMER10", **fields):
    fields = {
        "kind": Voucher.Kind.PERCENTAGE,
        "value": Decimal("10.00"),
        "starts_at": timezone.now() - HOUR,
        **fields,
    }
    return services.save_voucher(voucher=Voucher(code=code, **fields))


def redeem(saved, order_number, email="ada@example.com"):
    with transaction.atomic():
        services.redeem_voucher(
            saved, order_number=order_number, user=None, email=email
        )


def split(moment):
    """A moment as the admin's date and time inputs post it."""
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


def voucher_form(**changes):
    """The voucher form as the browser posts it: 10 % off from 2026-06-01."""
    form = {
        "code": "summer10",
        "kind": "percentage",
        "value": "10.00",
        "min_subtotal": "",
        "starts_at_0": "2026-06-01",
        "starts_at_1": "09:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "usage_limit": "",
        "once_per_customer": "on",
        **changes,
    }
    return {name: value for name, value in form.items() if value is not None}


def uses_inline(count=0):
    """The management form of the voucher's read-only list of uses."""
    return {
        "uses-TOTAL_FORMS": str(count),
        "uses-INITIAL_FORMS": str(count),
        "uses-MIN_NUM_FORMS": "0",
        "uses-MAX_NUM_FORMS": "0",
    }


# --- Tax rates ------------------------------------------------------------------------


def test_staff_add_a_tax_rate_choosing_the_country_by_name(clerk_client):
    page = clerk_client.get(f"{TAX_RATES}add/")

    response = clerk_client.post(
        f"{TAX_RATES}add/", {"country": "GB", "tax_class": "books", "rate": "5.00"}
    )

    assert '<option value="GB">United Kingdom</option>' in page.content.decode()
    assert response.status_code == 302
    saved = TaxRate.objects.get()
    assert (saved.country, saved.tax_class, saved.rate) == (
        "GB",
        "books",
        Decimal("5.00"),
    )


def test_a_second_rate_for_a_class_in_a_country_is_refused_in_the_admin(
    clerk_client,
):
    tax_rate("GB", "standard", "20.00")

    response = clerk_client.post(
        f"{TAX_RATES}add/", {"country": "GB", "tax_class": "standard", "rate": "5.00"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "__all__": ["Tax rate with this Country and Tax class already exists."]
    }
    assert TaxRate.objects.get().rate == Decimal("20.00")


def test_a_rate_of_100_percent_is_refused_in_the_admin(clerk_client):
    response = clerk_client.post(
        f"{TAX_RATES}add/", {"country": "GB", "tax_class": "standard", "rate": "100"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "rate": ["A rate must be below 100 %."]
    }
    assert not TaxRate.objects.exists()


def test_the_tax_rates_list_names_the_countries_and_filters_by_them(clerk_client):
    tax_rate("GB", "standard", "20.00")
    tax_rate("DE", "standard", "19.00")

    listed = clerk_client.get(TAX_RATES)
    filtered = clerk_client.get(TAX_RATES, {"country": "DE"})

    assert listed.status_code == 200
    content = listed.content.decode()
    assert "United Kingdom (GB)" in content
    assert "Germany (DE)" in content
    assert [rate.country for rate in filtered.context["cl"].result_list] == ["DE"]


# --- Vouchers -------------------------------------------------------------------------


def test_staff_add_a_voucher_for_categories_and_products(clerk_client):
    teas = CategoryFactory(slug="tea")
    mug = ProductFactory(slug="mug")
    page = clerk_client.get(f"{VOUCHERS}add/")

    response = clerk_client.post(
        f"{VOUCHERS}add/",
        voucher_form(
            min_subtotal="30.00",
            usage_limit="100",
            categories=[teas.pk],
            products=[mug.pk],
        ),
    )

    assert page.status_code == 200
    assert response.status_code == 302
    saved = Voucher.objects.get()
    assert (saved.code, saved.min_subtotal, saved.usage_limit, saved.used_count) == (
        "SUMMER10",
        Decimal("30.00"),
        100,
        0,
    )
    assert saved.once_per_customer
    assert (list(saved.categories.all()), list(saved.products.all())) == (
        [teas],
        [mug],
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Summer10"}, "code"),
        ({"value": "150.00"}, "value"),
        ({"ends_at_0": "2026-05-31", "ends_at_1": "09:00:00"}, "ends_at"),
    ],
    ids=["code-taken-in-another-case", "percentage-over-100", "ends-before-start"],
)
def test_a_bad_voucher_is_refused_in_the_admin_naming_the_field(
    clerk_client, changes, field
):
    voucher("SUMMER10")

    response = clerk_client.post(
        f"{VOUCHERS}add/", voucher_form(**{"code": "AUTUMN", **changes})
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    assert list(Voucher.objects.values_list("code", flat=True)) == ["SUMMER10"]


def test_a_voucher_changed_in_the_admin_keeps_its_uses(clerk_client):
    saved = voucher(usage_limit=10)
    redeem(saved, "SS-0001")
    starts = split(saved.starts_at)

    response = clerk_client.post(
        f"{VOUCHERS}{saved.pk}/change/",
        {
            **voucher_form(
                code="SUMMER10",
                value="15.00",
                usage_limit="10",
                starts_at_0=starts[0],
                starts_at_1=starts[1],
            ),
            **uses_inline(1),
            "uses-0-id": saved.uses.get().pk,
            "uses-0-voucher": saved.pk,
        },
    )

    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.value, saved.used_count) == (Decimal("15.00"), 1)
    assert saved.uses.count() == 1


def test_a_usage_limit_below_the_uses_taken_is_refused_in_the_admin(clerk_client):
    saved = voucher(usage_limit=10)
    redeem(saved, "SS-0001")
    redeem(saved, "SS-0002", email="grace@example.com")
    starts = split(saved.starts_at)

    response = clerk_client.post(
        f"{VOUCHERS}{saved.pk}/change/",
        {
            **voucher_form(
                code="SUMMER10",
                usage_limit="1",
                starts_at_0=starts[0],
                starts_at_1=starts[1],
            ),
            **uses_inline(0),
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "usage_limit": ["The limit cannot be below the uses taken already (2)."]
    }
    assert Voucher.objects.get(pk=saved.pk).usage_limit == 10


def test_a_vouchers_page_shows_its_uses_and_count_read_only(clerk_client):
    saved = voucher()
    redeem(saved, "SS-0042", email="ada@example.com")

    page = clerk_client.get(f"{VOUCHERS}{saved.pk}/change/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "SS-0042" in content
    assert "ada@example.com" in content
    assert "used_count" not in page.context["adminform"].form.fields


def test_the_vouchers_list_renders_and_finds_a_code_in_any_case(clerk_client):
    voucher("SUMMER10", usage_limit=5)
    voucher("WINTER20", kind=Voucher.Kind.FREE_SHIPPING, value=Decimal("0.00"))

    listed = clerk_client.get(VOUCHERS)
    found = clerk_client.get(VOUCHERS, {"q": "summer"})
    filtered = clerk_client.get(VOUCHERS, {"kind__exact": "free_shipping"})

    assert listed.status_code == 200
    assert [saved.code for saved in listed.context["cl"].result_list] == [
        "WINTER20",
        "SUMMER10",
    ]
    assert [saved.code for saved in found.context["cl"].result_list] == ["SUMMER10"]
    assert [saved.code for saved in filtered.context["cl"].result_list] == ["WINTER20"]
