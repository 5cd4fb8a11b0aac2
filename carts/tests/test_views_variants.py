"""Choosing options on the product page, without JavaScript, and adding them."""

import re

import pytest
from django.test import Client

from carts.models import CartItem
from catalog.tests.factories import TeeFactory

pytestmark = pytest.mark.django_db

ADD = "/cart/add/"


@pytest.fixture
def client():
    return Client()


def page(client, product, *options):
    return client.get(product.get_absolute_url(), {"option": list(options)})


def test_the_page_offers_each_option_as_a_select_in_a_get_form(client):
    product = TeeFactory()

    response = page(client, product)

    html = response.text
    assert '<form class="variant-picker" method="get"' in html
    assert '<label for="option-1">Colour</label>' in html
    assert '<option value="Colour:Red" selected>Red</option>' in html
    assert '<option value="Size:S" selected>S</option>' in html
    assert '<p class="price price-large">15.00' in html
    small = product.variants.get(sku="TEE-RED-S")
    assert f'<input type="hidden" name="variant" value="{small.pk}">' in html


def test_choosing_options_shows_that_variants_price_and_stock(client):
    product = TeeFactory()
    blue = product.variants.get(sku="TEE-BLUE-M")

    response = page(client, product, "Colour:Blue", "Size:M")

    html = response.text
    assert response.context["variant"] == blue
    assert '<p class="price price-large">17.00' in html
    assert "Only 3 left" in html
    assert f'name="variant" value="{blue.pk}"' in html
    assert 'min="1" max="3" required' in html


def test_the_was_price_is_struck_through(client):
    product = TeeFactory()  # Red S at 15.00, was 20.00

    html = page(client, product, "Colour:Red", "Size:S").text

    assert '<s class="price-was"' in html
    assert re.search(r'<s class="price-was" aria-label="Was 20\.00[^"]*">20\.00', html)


def test_a_combination_no_variant_has_says_so(client):
    product = TeeFactory()  # Blue S is not made

    response = page(client, product, "Colour:Blue", "Size:S")

    assert response.status_code == 200
    assert "This combination is not available" in response.text
    assert 'name="variant"' not in response.text


def test_the_chosen_variant_goes_into_the_cart(client):
    product = TeeFactory()
    small = product.variants.get(sku="TEE-RED-S")

    response = client.post(
        ADD, {"product": product.pk, "variant": small.pk, "quantity": 1}
    )

    assert response.status_code == 302
    assert CartItem.objects.get().variant == small
    cart = client.get("/cart/").text
    assert "Colour: Red, Size: S" in cart


def test_adding_a_product_with_options_without_choosing_is_refused(client):
    product = TeeFactory()

    response = client.post(ADD, {"product": product.pk, "quantity": 1})

    assert response.status_code == 400
    assert "choose one" in response.text
    assert not CartItem.objects.exists()


def test_made_up_options_are_shown_but_not_cached(client):
    product = TeeFactory()

    first = page(client, product, "Colour:Gold", "Size:S")

    assert "This combination is not available" in first.text
    assert first.status_code == 200
