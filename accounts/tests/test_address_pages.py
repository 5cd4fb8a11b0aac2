"""The address book's pages: /account/addresses/."""

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import Address
from accounts.tests.factories import AddressFactory, UserFactory, address_data

pytestmark = pytest.mark.django_db

BOOK = "/account/addresses/"
ADD = "/account/addresses/new/"


@pytest.fixture
def shopper():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def shopper_client(shopper):
    client = Client()
    client.force_login(shopper)
    return client


def field_errors(response, name):
    return response.context["form"].errors.get(name, [])


def test_the_book_needs_a_login(client):
    assertRedirects(client.get(BOOK), f"/accounts/login/?next={BOOK}")


def test_an_empty_book_says_so_and_offers_to_add(shopper_client):
    response = shopper_client.get(BOOK)

    assertContains(response, "Your address book is empty.")
    assertContains(
        response, f'<a class="button" href="{ADD}">Add an address</a>', html=True
    )


def test_the_account_page_links_to_the_book(shopper_client):
    assertContains(shopper_client.get("/account/"), f'href="{BOOK}"')


def test_adding_an_address_keeps_it_and_lists_it(shopper_client, shopper):
    form = shopper_client.get(ADD)

    response = shopper_client.post(ADD, address_data(country="gb"), follow=True)

    assertContains(form, '<option value="GB">United Kingdom</option>', html=True)
    assertRedirects(response, BOOK)
    assertContains(response, "The address is in your address book.")
    assertContains(
        response,
        "Ada Lovelace, 12 St James&#x27;s Square, SW1Y 4JH London, United Kingdom",
    )
    assertContains(response, "Default shipping address")
    assert shopper.addresses.get().country == "GB"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"postal_code": "12345"},
            "postal_code",
            "Enter a postal code of United Kingdom",
        ),
        ({"country": "XX"}, "country", "Enter a two-letter ISO 3166-1 country code"),
        ({"city": ""}, "city", "This field is required."),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
    ],
)
def test_a_bad_address_shows_the_form_again_with_the_error_beside_the_field(
    shopper_client, shopper, changes, field, message
):
    response = shopper_client.post(ADD, address_data(**changes))

    assert response.status_code == 400
    [error] = field_errors(response, field)
    assert error.startswith(message)
    assertContains(response, 'value="Ada Lovelace"', status_code=400)
    assert not shopper.addresses.exists()


def test_editing_an_address_changes_it(shopper_client, shopper):
    kept = AddressFactory(user=shopper, is_default_shipping=True)
    url = f"{BOOK}{kept.pk}/"

    form = shopper_client.get(url)
    response = shopper_client.post(
        url, address_data(city="Bath", postal_code="BA1 1LT")
    )

    assertContains(form, 'value="SW1Y 4JH"')
    assertRedirects(response, BOOK)
    kept.refresh_from_db()
    assert (kept.city, kept.postal_code, kept.is_default_shipping) == (
        "Bath",
        "BA1 1LT",
        True,
    )


def test_another_address_is_made_the_default(shopper_client, shopper):
    first = AddressFactory(user=shopper, is_default_shipping=True)
    second = AddressFactory(user=shopper)

    response = shopper_client.post(f"{BOOK}{second.pk}/default/")

    assertRedirects(response, BOOK)
    assert list(
        shopper.addresses.values_list("pk", "is_default_shipping").order_by("pk")
    ) == [(first.pk, False), (second.pk, True)]


def test_deleting_an_address_takes_it_out_of_the_book(shopper_client, shopper):
    kept = AddressFactory(user=shopper)

    response = shopper_client.post(f"{BOOK}{kept.pk}/delete/")

    assertRedirects(response, BOOK)
    assert not Address.objects.exists()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("post", "delete/"), ("post", "default/")],
)
def test_another_shoppers_address_is_404_and_untouched(shopper_client, method, suffix):
    theirs = AddressFactory(city="London")

    response = getattr(shopper_client, method)(
        f"{BOOK}{theirs.pk}/{suffix}", address_data(city="Bath")
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.city, theirs.is_default_shipping) == ("London", False)


def test_an_id_beyond_any_row_is_404(shopper_client):
    assert shopper_client.get(f"{BOOK}{2**70}/").status_code == 404


def test_delete_and_default_take_no_get(shopper_client, shopper):
    kept = AddressFactory(user=shopper)

    assert shopper_client.get(f"{BOOK}{kept.pk}/delete/").status_code == 405
    assert Address.objects.filter(pk=kept.pk).exists()
