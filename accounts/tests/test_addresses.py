"""The address book: its rules (accounts.services) and /api/v1/users/me/addresses/."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services
from accounts.addresses import clean_address
from accounts.models import Address
from accounts.tests.factories import AddressFactory, UserFactory, address_data
from accounts.tests.test_api import bearer
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/v1/users/me/addresses/"


def book(user):
    return list(user.addresses.values_list("line1", "is_default_shipping"))


# --- The rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [("GB", "sw1y 4jh"), ("US", "10001"), ("US", "10001-1234"), ("DE", "10115")],
)
def test_a_postal_code_of_its_country_is_accepted(country, postal_code):
    cleaned = clean_address(address_data(country=country, postal_code=postal_code))

    assert (cleaned["country"], cleaned["postal_code"]) == (country, postal_code)


@pytest.mark.parametrize(
    ("country", "postal_code", "message"),
    [
        (
            "US",
            "1000",
            "Enter a postal code of United States of America, "
            "such as 95014, 22162-1010.",
        ),
        ("DE", "1011", "Enter a postal code of Germany, such as 26133, 53225."),
        (
            "GB",
            "12345",
            "Enter a postal code of United Kingdom, such as EC1Y 8SY, GIR 0AA.",
        ),
    ],
)
def test_a_postal_code_not_of_its_country_is_refused_with_an_example(
    country, postal_code, message
):
    with pytest.raises(ValidationError) as refusal:
        clean_address(address_data(country=country, postal_code=postal_code))

    assert refusal.value.message_dict == {"postal_code": [message]}


def test_a_country_without_a_known_format_takes_any_postal_code():
    assert (
        clean_address(address_data(country="AQ", postal_code="X1"))["postal_code"]
        == "X1"
    )


def test_the_first_address_is_the_default_and_a_new_default_replaces_it():
    user = UserFactory()

    services.add_address(user=user, data=address_data(line1="1 First Street"))
    services.add_address(user=user, data=address_data(line1="2 Second Street"))
    services.add_address(
        user=user, data=address_data(line1="3 Third Street"), make_default=True
    )

    assert book(user) == [
        ("3 Third Street", True),
        ("2 Second Street", False),
        ("1 First Street", False),
    ]


def test_an_address_is_checked_and_kept_clean():
    user = UserFactory()

    kept = services.add_address(
        user=user, data=address_data(full_name="  Ada   Lovelace ", country="gb")
    )

    assert (kept.full_name, kept.country) == ("Ada Lovelace", "GB")


def test_a_bad_address_is_refused_per_field_and_nothing_kept():
    user = UserFactory()

    with pytest.raises(ValidationError) as refusal:
        services.add_address(user=user, data=address_data(country="XX", city=""))

    assert set(refusal.value.message_dict) == {"country", "city"}
    assert not Address.objects.exists()


def test_an_update_changes_the_fields_given_and_checks_the_whole():
    kept = AddressFactory(country="US", postal_code="10001")

    with pytest.raises(ValidationError) as refusal:
        services.update_address(address=kept, data={"country": "GB"})
    services.update_address(address=kept, data={"city": "New York"})

    assert list(refusal.value.message_dict) == ["postal_code"]
    kept.refresh_from_db()
    assert (kept.city, kept.country, kept.postal_code) == ("New York", "US", "10001")


def test_making_one_the_default_clears_the_other():
    user = UserFactory()
    first = AddressFactory(user=user, is_default_shipping=True)
    second = AddressFactory(user=user)

    services.make_default_address(address=second)

    first.refresh_from_db()
    assert (first.is_default_shipping, second.is_default_shipping) == (False, True)


def test_a_full_book_refuses_one_more(monkeypatch):
    monkeypatch.setattr(services, "MAX_ADDRESSES", 2)
    user = UserFactory()
    AddressFactory.create_batch(2, user=user)

    with pytest.raises(ValidationError) as refusal:
        services.add_address(user=user, data=address_data())

    assert refusal.value.code == "book_full"
    assert user.addresses.count() == 2


@pytest.mark.django_db(transaction=True)
def test_racing_defaults_leave_exactly_one():
    user = UserFactory()
    addresses = AddressFactory.create_batch(6, user=user)

    def make_default(kept):
        try:
            services.make_default_address(address=kept)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(make_default, addresses))

    assert user.addresses.filter(is_default_shipping=True).count() == 1


def test_saving_an_orders_address_keeps_no_duplicate():
    user = UserFactory()
    fields = clean_address(address_data())

    services.save_shipping_address(user=user, fields=fields)
    services.save_shipping_address(user=user, fields=fields)

    assert book(user) == [("12 St James's Square", True)]


def test_another_users_address_is_not_found_by_id():
    theirs = AddressFactory()

    with pytest.raises(ValidationError) as refusal:
        services.saved_address(user=UserFactory(), pk=theirs.pk)

    assert refusal.value.code == "not_found"


# --- The API ------------------------------------------------------------------------


def test_a_customer_adds_lists_changes_and_deletes_addresses(api_client):
    bearer(api_client, UserFactory())

    added = api_client.post(ADDRESSES, address_data(country="gb"), format="json")
    listed = api_client.get(ADDRESSES)
    url = f"{ADDRESSES}{added.json()['id']}/"
    changed = api_client.patch(
        url, {"city": "Bath", "postal_code": "BA1 1LT"}, format="json"
    )
    deleted = api_client.delete(url)

    assert added.status_code == 201
    assert added.json() == {
        "id": added.json()["id"],
        **address_data(),
        "is_default_shipping": True,
    }
    assert listed.json()["count"] == 1
    assert listed.json()["results"] == [added.json()]
    assert changed.status_code == 200
    assert (changed.json()["city"], changed.json()["postal_code"]) == (
        "Bath",
        "BA1 1LT",
    )
    assert deleted.status_code == 204
    assert not Address.objects.exists()


def test_a_bad_address_is_a_400_naming_each_field(api_client):
    bearer(api_client, UserFactory())

    response = api_client.post(
        ADDRESSES, address_data(country="US", postal_code="ABC"), format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["postal_code"]
    assert not Address.objects.exists()


def test_setting_the_default_through_the_api_moves_it(api_client):
    user = UserFactory()
    first = AddressFactory(user=user, is_default_shipping=True)
    second = AddressFactory(user=user)
    bearer(api_client, user)

    response = api_client.patch(
        f"{ADDRESSES}{second.pk}/", {"is_default_shipping": True}, format="json"
    )

    assert response.json()["is_default_shipping"] is True
    first.refresh_from_db()
    assert first.is_default_shipping is False


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_address_is_404_and_untouched(api_client, method):
    theirs = AddressFactory(city="London")
    bearer(api_client, UserFactory())

    response = getattr(api_client, method)(
        f"{ADDRESSES}{theirs.pk}/", {"city": "Bath"}, format="json"
    )

    assert_problem(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.city == "London"


def test_the_address_book_needs_a_login(api_client):
    assert_problem(api_client.get(ADDRESSES), 401, "not_authenticated")
