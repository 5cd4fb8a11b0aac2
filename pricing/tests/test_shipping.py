"""Shipping zones and methods: the rules, the staff API, the public list, the admin."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.tests.factories import StaffFactory, UserFactory
from catalog.tests.factories import ProductFactory
from core.testing import assert_problem
from orders import services as order_services
from orders.models import Order
from orders.tests.conftest import client_for
from orders.tests.factories import address, fill_cart
from pricing import services
from pricing.models import ShippingMethod, ShippingZone
from pricing.tests.factories import method_data as method
from pricing.tests.factories import shipping_zone as zone

pytestmark = pytest.mark.django_db

ZONES = "/api/v1/shipping-zones/"
METHODS = "/api/v1/shipping-methods/"


@pytest.fixture
def clerk():
    """A staff member holding the pricing app's permissions (not a superuser)."""
    clerk = StaffFactory()
    clerk.user_permissions.set(
        Permission.objects.filter(content_type__app_label="pricing")
    )
    return clerk


@pytest.fixture
def staff_client(clerk):
    return client_for(clerk)


# --- The rules ----------------------------------------------------------------------


def test_a_country_is_offered_the_methods_of_every_zone_holding_it_cheapest_first():
    zone("UK", ["GB"], [method("uk-express", price=Decimal("9.00"))])
    zone("Europe and UK", ["gb", "FR"], [method("courier", price=Decimal("6.00"))])
    zone("Germany", ["DE"], [method("de-post")])

    offered = services.shipping_methods_for(country="gb")

    assert [shipping.code for shipping in offered] == ["courier", "uk-express"]
    assert services.shipping_methods_for(country="US") == []


@pytest.mark.parametrize("country", ["", "XX", "GBR"])
def test_methods_for_no_country_are_refused(country):
    with pytest.raises(ValidationError) as refusal:
        services.shipping_methods_for(country=country)

    assert list(refusal.value.message_dict) == ["country"]


@pytest.mark.parametrize(
    ("subtotal", "cost"),
    [("49.99", "4.95"), ("50.00", "0.00"), ("120.00", "0.00")],
)
def test_a_method_is_free_at_and_above_its_threshold(subtotal, cost):
    shipping = ShippingMethod(price=Decimal("4.95"), free_above=Decimal("50.00"))

    assert shipping.rate.cost_for(Decimal(subtotal)) == Decimal(cost)


def test_a_method_without_a_threshold_always_costs_its_price():
    shipping = ShippingMethod(price=Decimal("4.95"), free_above=None)

    assert shipping.rate.cost_for(Decimal("10000.00")) == Decimal("4.95")


def test_saving_a_zone_keeps_its_countries_once_each_in_order():
    saved = zone(countries=["fr", "DE", "FR"])

    assert saved.countries == ["DE", "FR"]


def test_a_zone_with_an_unknown_country_is_refused_and_nothing_saved():
    with pytest.raises(ValidationError) as refusal:
        zone(countries=["DE", "XX", "ZZ"])

    assert refusal.value.message_dict == {
        "countries": ["Not ISO 3166-1 country codes: XX, ZZ."]
    }
    assert not ShippingZone.objects.exists()


def test_the_methods_given_replace_the_zones_methods_by_code():
    saved = zone(methods=[method("standard"), method("express")])
    standard_id = saved.methods.get(code="standard").pk

    services.save_shipping_zone(
        zone=saved,
        methods=[
            method("standard", price=Decimal("5.50")),
            method("pickup", price=Decimal("0.00")),
        ],
    )

    assert sorted(saved.methods.values_list("code", "price")) == [
        ("pickup", Decimal("0.00")),
        ("standard", Decimal("5.50")),
    ]
    assert saved.methods.get(code="standard").pk == standard_id


def test_a_code_another_zone_uses_is_refused_and_the_zone_left_as_it_was():
    zone("UK", ["GB"], [method("standard")])
    europe = zone("Europe", ["FR"], [method("courier")])

    with pytest.raises(ValidationError) as refusal:
        services.save_shipping_zone(zone=europe, methods=[method("standard")])

    assert list(refusal.value.message_dict) == ["methods.0.code"]
    assert list(europe.methods.values_list("code", flat=True)) == ["courier"]


def test_two_methods_of_one_zone_with_one_code_are_refused():
    with pytest.raises(ValidationError) as refusal:
        zone(methods=[method("standard"), method("standard")])

    assert list(refusal.value.message_dict) == ["methods"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": Decimal("-1.00")}, "price"),
        ({"free_above": Decimal("-1.00")}, "free_above"),
        ({"code": "not a slug"}, "code"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_method_is_refused_naming_its_field(changes, field):
    with pytest.raises(ValidationError) as refusal:
        zone(methods=[method(), method(**{"code": "express", **changes})])

    assert f"methods.1.{field}" in refusal.value.message_dict


# --- The API ------------------------------------------------------------------------


def test_anyone_reads_the_methods_for_a_country(api_client):
    zone(
        "UK",
        ["GB"],
        [method("royal-mail", free_above=Decimal("50.00"), estimated_days=2)],
    )

    response = api_client.get(METHODS, {"country": "gb"})

    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "royal-mail",
            "name": "Royal-Mail",
            "price": "4.95",
            "free_above": "50.00",
            "estimated_days": 2,
            "max_weight": None,
        }
    ]


@pytest.mark.parametrize("query", [{}, {"country": "Narnia"}])
def test_methods_without_a_country_are_400_naming_it(api_client, query):
    body = assert_problem(api_client.get(METHODS, query), 400, "validation_error")

    assert list(body["errors"]) == ["country"]


def test_staff_add_change_and_delete_a_zone(staff_client):
    body = {
        "name": "Europe",
        "countries": ["de", "FR"],
        "methods": [
            {
                "code": "dhl",
                "name": "DHL",
                "price": "7.50",
                "free_above": "80.00",
                "estimated_days": 4,
                "max_weight": 30000,
            }
        ],
    }

    added = staff_client.post(ZONES, body, format="json")
    url = f"{ZONES}{added.json()['id']}/"
    renamed = staff_client.patch(url, {"name": "EU"}, format="json")
    deleted = staff_client.delete(url)

    assert added.status_code == 201
    assert added.json() == {
        "id": added.json()["id"],
        **body,
        "countries": ["DE", "FR"],
    }
    assert renamed.json()["name"] == "EU"
    assert renamed.json()["methods"] == body["methods"]  # left as they were
    assert deleted.status_code == 204
    assert not ShippingMethod.objects.exists()


def test_a_bad_zone_is_400_naming_the_field_and_nothing_saved(staff_client):
    zone("UK", ["GB"], [method("standard")])
    body = {"name": "Europe", "countries": ["FR"], "methods": [method("standard")]}
    body["methods"][0]["price"] = "4.95"

    response = staff_client.post(ZONES, body, format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["methods.0.code"]
    assert ShippingZone.objects.count() == 1


def test_staff_without_the_shipping_permissions_may_not_manage_zones():
    europe = zone()
    client = client_for(StaffFactory())  # a staff member without them

    listed = client.get(ZONES)
    changed = client.patch(
        f"{ZONES}{europe.pk}/", {"methods": [method(price="0.00")]}, format="json"
    )

    assert_problem(listed, 403, "permission_denied")
    assert_problem(changed, 403, "permission_denied")
    assert europe.methods.get().price == Decimal("4.95")


def test_staff_who_may_edit_zones_but_not_methods_may_not_change_methods():
    europe = zone()
    editor = StaffFactory()
    editor.user_permissions.set(
        Permission.objects.filter(codename__endswith="_shippingzone")
    )
    client = client_for(editor)

    renamed = client.patch(f"{ZONES}{europe.pk}/", {"name": "EU"}, format="json")
    cheaper = client.patch(
        f"{ZONES}{europe.pk}/", {"methods": [method(price="0.00")]}, format="json"
    )

    assert renamed.status_code == 200
    assert_problem(cheaper, 403, "permission_denied")
    assert europe.methods.get().price == Decimal("4.95")


def test_customers_may_not_manage_zones(customer_client):
    assert_problem(customer_client.get(ZONES), 403, "permission_denied")
    assert_problem(
        customer_client.post(ZONES, {"name": "Mine"}, format="json"),
        403,
        "permission_denied",
    )


# --- The admin ----------------------------------------------------------------------


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def test_staff_add_a_zone_with_its_methods_in_the_admin(clerk_client):
    response = clerk_client.post(
        "/admin/pricing/shippingzone/add/",
        {
            "name": "UK",
            "countries": ["GB"],
            "methods-TOTAL_FORMS": "1",
            "methods-INITIAL_FORMS": "0",
            "methods-0-code": "royal-mail",
            "methods-0-name": "Royal Mail",
            "methods-0-price": "3.50",
            "methods-0-free_above": "",
            "methods-0-estimated_days": "2",
        },
    )

    assert response.status_code == 302
    saved = ShippingZone.objects.get()
    assert (saved.countries, list(saved.methods.values_list("code", flat=True))) == (
        ["GB"],
        ["royal-mail"],
    )


def test_the_admins_zone_form_lists_countries_by_name(clerk_client):
    page = clerk_client.get("/admin/pricing/shippingzone/add/")

    assert page.status_code == 200
    assert '<option value="GB">United Kingdom</option>' in page.content.decode()


# --- Checkout by a method -----------------------------------------------------------


@pytest.fixture
def uk():
    """Royal Mail to the UK at 4.95, free from 50.00; Courier at 9.00."""
    return zone(
        "UK",
        ["GB"],
        [
            method("royal-mail", free_above=Decimal("50.00")),
            method("courier", price=Decimal("9.00"), estimated_days=1),
        ],
    )


def buy(user, price="20.00", **checkout):
    fill_cart(user, (ProductFactory(price=Decimal(price), stock=5), 1))
    checkout.setdefault("shipping_address", address())
    return order_services.place_order(user=user, **checkout).order


@pytest.mark.parametrize(
    ("code", "price", "shipping"),
    [
        ("royal-mail", "20.00", "4.95"),
        ("royal-mail", "50.00", "0.00"),
        ("courier", "50.00", "9.00"),
    ],
)
@pytest.mark.usefixtures("uk")
def test_checkout_charges_the_chosen_method_and_the_order_names_it(
    code, price, shipping
):
    order = buy(UserFactory(), price, shipping_method=code)

    assert order.shipping_cost == Decimal(shipping)
    assert order.total == Decimal(price) + Decimal(shipping)
    assert order.shipping_method_code == code


@pytest.mark.usefixtures("uk")
def test_the_confirmation_email_names_the_method(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        buy(UserFactory(), shipping_method="courier")

    [email] = mail.outbox
    assert "Shipping (Courier): 9.00 USD" in email.body


@pytest.mark.parametrize(
    ("country", "code", "message"),
    [
        ("GB", None, "Choose how to ship to United Kingdom: royal-mail, courier."),
        (
            "GB",
            "no-such",
            "That shipping method does not ship to United Kingdom: choose "
            "royal-mail, courier.",
        ),
        (
            "US",
            "courier",
            "No shipping method ships to United States of America: leave it out.",
        ),
    ],
)
@pytest.mark.usefixtures("uk")
def test_a_method_that_does_not_serve_the_address_is_refused_and_nothing_taken(
    country, code, message
):
    user = UserFactory()
    postal_code = {"GB": "SW1Y 4JH", "US": "10001"}[country]

    with pytest.raises(ValidationError) as refusal:
        buy(
            user,
            shipping_address=address(country=country, postal_code=postal_code),
            shipping_method=code,
        )

    assert refusal.value.message_dict == {"shipping_method": [message]}
    assert not Order.objects.exists()
    assert user.cart.items.count() == 1


@pytest.mark.usefixtures("uk")
def test_a_country_no_zone_serves_pays_the_flat_rate_without_a_method(settings):
    order = buy(
        UserFactory(),
        shipping_address=address(country="US", postal_code="10001"),
    )

    assert order.shipping_cost == settings.SHIPPING_FLAT_RATE
    assert (order.shipping_method_code, order.shipping_method_name) == ("", "")


@pytest.mark.usefixtures("uk")
def test_the_api_checkout_takes_a_method_and_answers_with_it(customer_client, customer):
    fill_cart(customer, (ProductFactory(price=Decimal("20.00")), 1))

    response = customer_client.post(
        "/api/v1/orders/",
        {"shipping_address": address(), "shipping_method": "courier"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["shipping_method"] == {"code": "courier", "name": "Courier"}
    assert (response.json()["shipping_cost"], response.json()["total"]) == (
        "9.00",
        "29.00",
    )


@pytest.mark.usefixtures("uk")
def test_the_api_checkout_without_a_method_is_400_naming_it(customer_client, customer):
    fill_cart(customer, (ProductFactory(), 1))

    response = customer_client.post(
        "/api/v1/orders/", {"shipping_address": address()}, format="json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["shipping_method"]
