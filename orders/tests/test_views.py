"""The checkout, order and order-history pages, through Django's test client."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Address
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AddressFactory,
    StaffFactory,
    UserFactory,
)
from carts.models import CartItem
from catalog import services as catalog_services
from catalog.models import Product
from catalog.tests.factories import ProductFactory, variant_of
from orders.forms import OUT_OF_DATE, OUT_OF_DATE_ADDRESS
from orders.models import Order, Payment
from orders.tests.factories import (
    APPROVED_CARD,
    DECLINED_CARD,
    OrderFactory,
    PaidOrderFactory,
    address,
    fill_cart,
    red_tee,
)
from pricing.models import ShippingMethod
from pricing.tests.factories import method_data, shipping_zone

pytestmark = pytest.mark.django_db

CHECKOUT = "/checkout/"
HISTORY = "/account/orders/"
NBSP = "\N{NO-BREAK SPACE}"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def hidden(response, name):
    match = re.search(
        rf'<input type="hidden" name="{name}" value="([^"]*)">',
        response.content.decode(),
    )
    return match.group(1)


def field_errors(response, name):
    return response.context["form"].errors.get(name, [])


def product(name="Blue mug", *, price="12.50", stock=10, **kwargs):
    return ProductFactory(name=name, price=Decimal(price), stock=stock, **kwargs)


def checkout_data(response, **changes):
    """What the checkout form sends: a valid new address and the page's hidden
    total and key, with any field changed."""
    data = {
        "full_name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": "Flat 3",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "gb",
        "phone": "+44 20 7946 0000",
        "note": "Ring twice",
        "expected_total": hidden(response, "expected_total"),
        "idempotency_key": hidden(response, "idempotency_key"),
        # One a shipping method, where the store has methods.
        **dict(
            re.findall(
                r'<input type="hidden" name="(expected_total_[\w-]+)" value="([^"]*)">',
                response.content.decode(),
            )
        ),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def shopper():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def mug():
    return product()


@pytest.fixture
def shopper_client(client, shopper):
    client.force_login(shopper)
    return client


@pytest.fixture
def cart_of_two_mugs(shopper, mug):
    return fill_cart(shopper, (mug, 2))


@pytest.fixture
def checkout_page(shopper_client, cart_of_two_mugs):
    """The checkout page as the shopper first sees it."""
    return shopper_client.get(CHECKOUT)


# --- Checkout: who and when -----------------------------------------------------------


def test_checkout_without_a_cart_sends_a_guest_back_to_the_cart(client):
    # With a cart, a guest checks out here (test_guest_checkout.py).
    response = client.get(CHECKOUT)

    assertRedirects(response, "/cart/", fetch_redirect_response=False)


def test_logging_in_from_the_checkout_link_returns_to_checkout(client, shopper, mug):
    fill_cart(shopper, (mug, 1))

    response = client.post(
        "/accounts/login/?next=/checkout/",
        {"username": shopper.email, "password": DEFAULT_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/checkout/", 302)]
    assertContains(response, "<h1>Checkout</h1>")


def test_checkout_of_an_empty_cart_goes_back_to_the_cart_with_a_message(
    shopper_client,
):
    response = shopper_client.get(CHECKOUT)

    assertRedirects(response, "/cart/")
    assert messages_of(response) == [
        "Your cart is empty: add something before checking out."
    ]


def test_placing_an_order_with_an_empty_cart_goes_back_to_the_cart(
    shopper_client, checkout_page, shopper
):
    data = checkout_data(checkout_page)
    CartItem.objects.filter(cart__user=shopper).delete()  # emptied in another tab

    response = shopper_client.post(CHECKOUT, data)

    assertRedirects(response, "/cart/")
    assert messages_of(response) == [
        "Your cart is empty: add something before checking out."
    ]
    assert Order.objects.count() == 0


# --- Checkout: the page ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "field_id"),
    [
        ("Full name", "id_full_name"),
        ("Address line 1", "id_line1"),
        ("Address line 2", "id_line2"),
        ("City", "id_city"),
        ("Postal code", "id_postal_code"),
        ("Country", "id_country"),
        ("Phone", "id_phone"),
        ("Note", "id_note"),
    ],
)
def test_the_checkout_form_has_the_contracts_labels(checkout_page, label, field_id):
    assertContains(checkout_page, f'<label for="{field_id}">{label}</label>', html=True)


def test_the_checkout_page_shows_the_order_summary_and_place_order(checkout_page):
    assert checkout_page.status_code == 200
    assertContains(
        checkout_page,
        '<span class="summary-name">2 \N{MULTIPLICATION SIGN} Blue mug</span>'
        f'<span class="summary-amount">25.00{NBSP}USD</span>',
        html=True,
    )
    assertContains(checkout_page, f"<dt>Subtotal</dt><dd>25.00{NBSP}USD</dd>")
    assertContains(checkout_page, f"<dt>Shipping</dt><dd>5.00{NBSP}USD</dd>")
    assertContains(
        checkout_page,
        f'<dt class="total">Total</dt><dd class="total">30.00{NBSP}USD</dd>',
    )
    assertContains(
        checkout_page,
        '<button type="submit" class="button-wide">Place order</button>',
        html=True,
    )
    assert hidden(checkout_page, "expected_total") == "30.00"
    assert len(hidden(checkout_page, "idempotency_key")) == 32
    assertNotContains(checkout_page, "Ship to")


def test_each_checkout_page_gets_its_own_idempotency_key(shopper_client, checkout_page):
    again = shopper_client.get(CHECKOUT)

    assert hidden(again, "idempotency_key") != hidden(checkout_page, "idempotency_key")


def test_the_checkout_page_reads_a_fixed_number_of_queries(
    shopper_client, shopper, django_assert_num_queries
):
    fill_cart(shopper, *[(product(f"Mug {number}"), 1) for number in range(5)])
    shopper_client.get(CHECKOUT)

    # The session, the user, the cart, its lines with their products, the
    # address book, the pricing rules of its country.
    with django_assert_num_queries(6):
        shopper_client.get(CHECKOUT)


def test_the_checkout_page_warns_about_lines_the_stock_no_longer_covers(
    shopper_client, cart_of_two_mugs, mug
):
    catalog_services.set_stock(variant=variant_of(mug), stock=1)

    response = shopper_client.get(CHECKOUT)

    assertContains(response, '<span class="summary-problem">Only 1 left</span>')
    assertContains(
        response,
        "Some items cannot be ordered in the quantity in your cart: see the order "
        "summary.",
    )


# --- Checkout: placing the order ------------------------------------------------------


def test_place_order_creates_the_order_and_goes_to_its_page(
    shopper_client, checkout_page, shopper, mug
):
    response = shopper_client.post(CHECKOUT, checkout_data(checkout_page))

    order = Order.objects.get()
    assertRedirects(response, f"/orders/{order.number}/")
    assert messages_of(response) == [
        f"Thank you! Your order {order.number} is placed. Pay for it below to "
        "complete it."
    ]
    assert order.user == shopper
    assert order.status == "pending"
    assert order.total == Decimal("30.00")
    assert order.shipping_address == address(country="GB")
    assert order.note == "Ring twice"
    assert order.idempotency_key == hidden(checkout_page, "idempotency_key")
    assert CartItem.objects.filter(cart__user=shopper).count() == 0
    mug.refresh_from_db()
    assert mug.stock == 8


def test_a_double_submit_places_one_order(shopper_client, checkout_page):
    data = checkout_data(checkout_page)

    first = shopper_client.post(CHECKOUT, data)
    second = shopper_client.post(CHECKOUT, data)

    order = Order.objects.get()
    assertRedirects(first, order.get_absolute_url())
    assertRedirects(second, order.get_absolute_url())


def test_a_page_sent_again_with_another_address_shows_the_order_it_placed(
    shopper_client, checkout_page, shopper, mug
):
    shopper_client.post(CHECKOUT, checkout_data(checkout_page))
    fill_cart(shopper, (mug, 1))  # and then back to the old page, changed

    again = shopper_client.post(
        CHECKOUT, checkout_data(checkout_page, line1="1 Elsewhere Road"), follow=True
    )

    order = Order.objects.get()
    assertRedirects(again, "/account/orders/")
    assertContains(again, "already sent and placed an order")
    assertContains(again, order.number)
    assert order.shipping_address["line1"] == "12 St James's Square"
    assert CartItem.objects.filter(cart__user=shopper).count() == 1


def test_a_later_checkout_page_places_a_second_order(
    shopper_client, checkout_page, shopper, mug
):
    shopper_client.post(CHECKOUT, checkout_data(checkout_page))
    fill_cart(shopper, (mug, 1))
    page = shopper_client.get(CHECKOUT)

    shopper_client.post(CHECKOUT, checkout_data(page, address="new"))

    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "This field is required."),
        ({"city": "   "}, "city", "This field is required."),
        ({"line1": None}, "line1", "This field is required."),
        (
            {"country": "UK"},
            "country",
            "Enter a two-letter ISO 3166-1 country code, such as US or DE.",
        ),
        (
            {"country": "GBR"},
            "country",
            "Ensure this value has at most 2 characters (it has 3).",
        ),
        (
            {"postal_code": "SW1Y_4JH"},
            "postal_code",
            "Use letters, digits, spaces and hyphens only.",
        ),
        (
            {"phone": "call me"},
            "phone",
            "Enter a phone number: digits, spaces, + ( ) . - only, 5 to 20 digits.",
        ),
        (
            {"note": "x" * 1001},
            "note",
            "Ensure this value has at most 1000 characters (it has 1001).",
        ),
    ],
)
def test_address_errors_show_beside_their_field_and_keep_what_was_typed(
    shopper_client, checkout_page, shopper, changes, field, message
):
    response = shopper_client.post(CHECKOUT, checkout_data(checkout_page, **changes))

    assert response.status_code == 400
    assert field_errors(response, field) == [message]
    assertContains(
        response,
        f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>',
        status_code=400,
    )
    assertContains(
        response, f'aria-invalid="true" aria-describedby="id_{field}', status_code=400
    )
    kept = "Ada Lovelace" if field != "full_name" else "London"
    assertContains(response, f'value="{kept}"', status_code=400)
    assert Order.objects.count() == 0
    assert CartItem.objects.filter(cart__user=shopper).count() == 1


def test_every_address_error_shows_at_once(shopper_client, checkout_page):
    response = shopper_client.post(
        CHECKOUT, checkout_data(checkout_page, city="", country="ZZ", phone="12")
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"city", "country", "phone"}


def test_a_stock_problem_shows_the_page_again_naming_the_short_lines(
    shopper_client, checkout_page, shopper, mug
):
    pan = product("Cast-iron pan", stock=5)
    rake = product("Bamboo rake")
    fill_cart(shopper, (pan, 3), (rake, 1))
    page = shopper_client.get(CHECKOUT)
    catalog_services.set_stock(variant=variant_of(mug), stock=1)
    catalog_services.set_stock(variant=variant_of(pan), stock=0)
    catalog_services.update_product(product=rake, is_active=False)

    response = shopper_client.post(CHECKOUT, checkout_data(page))

    assert response.status_code == 409
    assertContains(
        response,
        "<ul><li>Blue mug: only 1 left, and your cart holds 2.</li>"
        "<li>Cast-iron pan is out of stock.</li>"
        "<li>Bamboo rake is no longer for sale.</li></ul>",
        html=True,
        status_code=409,
    )
    assertContains(response, '<div class="alert" role="alert">', status_code=409)
    assertContains(response, 'value="Ada Lovelace"', status_code=409)
    assert Order.objects.count() == 0
    assert CartItem.objects.filter(cart__user=shopper).count() == 3
    assert Product.objects.get(pk=mug.pk).stock == 1


def test_a_price_change_shows_the_new_total_and_the_next_submit_orders_at_it(
    shopper_client, checkout_page, mug
):
    catalog_services.update_product(product=mug, price=Decimal("15.00"))

    response = shopper_client.post(CHECKOUT, checkout_data(checkout_page))

    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [
        "The total is now 35.00 USD, not 30.00: prices may have changed since "
        "this page was shown, and tax and shipping depend on the address's "
        "country. Check the order summary, then place your order again."
    ]
    assertContains(
        response,
        f'<dd class="total">35.00{NBSP}USD</dd>',
        status_code=409,
    )
    assert hidden(response, "expected_total") == "35.00"
    assert Order.objects.count() == 0

    shopper_client.post(CHECKOUT, checkout_data(response))

    assert Order.objects.get().total == Decimal("35.00")


def test_a_refused_checkout_may_be_sent_again_with_the_same_key(
    shopper_client, checkout_page, mug
):
    catalog_services.set_stock(variant=variant_of(mug), stock=1)
    refused = shopper_client.post(CHECKOUT, checkout_data(checkout_page))
    catalog_services.set_stock(variant=variant_of(mug), stock=5)

    response = shopper_client.post(CHECKOUT, checkout_data(refused))

    assert hidden(refused, "idempotency_key") == hidden(
        checkout_page, "idempotency_key"
    )
    assertRedirects(response, Order.objects.get().get_absolute_url())


@pytest.mark.parametrize(
    "changes",
    [
        {"expected_total": "thirty"},
        {"expected_total": "-1"},
        {"expected_total": "NaN"},
        {"idempotency_key": "has spaces in it"},
        {"idempotency_key": "k" * 101},
    ],
)
def test_tampered_hidden_fields_show_the_page_again(
    shopper_client, checkout_page, changes
):
    response = shopper_client.post(CHECKOUT, checkout_data(checkout_page, **changes))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "This page was out of date. Check your order below, then place it again."
    ]
    assert hidden(response, "expected_total") == "30.00"
    assert re.fullmatch(r"[\w-]{32}", hidden(response, "idempotency_key"))
    assert Order.objects.count() == 0


def test_checkout_needs_the_csrf_token(shopper, cart_of_two_mugs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)

    response = client.post(CHECKOUT, {"full_name": "Ada"})

    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_checkouts_past_the_limit_are_refused_with_429(
    shopper_client, checkout_page, settings, ratelimit_clock
):
    settings.RATELIMIT_CHECKOUT = "1/m"
    shopper_client.post(CHECKOUT, checkout_data(checkout_page, city=""))

    response = shopper_client.post(CHECKOUT, checkout_data(checkout_page))

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assertContains(response, "Too many checkouts in a short time.", status_code=429)
    assertContains(response, 'value="Ada Lovelace"', status_code=429)
    assert Order.objects.count() == 0


# --- Checkout: the address book ------------------------------------------------------


@pytest.fixture
def saved(shopper):
    """The shopper's default address, and another one."""
    return (
        AddressFactory(
            user=shopper, line1="12 St James's Square", is_default_shipping=True
        ),
        AddressFactory(
            user=shopper,
            line1="4 Rue de Rivoli",
            city="Paris",
            postal_code="75004",
            country="FR",
        ),
    )


@pytest.fixture
def returning_page(shopper_client, shopper, mug, saved):
    """A customer with an address book, checking out."""
    fill_cart(shopper, (mug, 1))
    return shopper_client.get(CHECKOUT)


NO_ADDRESS_TYPED = dict.fromkeys(
    ["full_name", "line1", "line2", "city", "postal_code", "country", "phone"], ""
)


def test_a_customer_is_offered_every_saved_address_the_default_chosen(
    returning_page, saved
):
    default = saved[0]
    assertContains(returning_page, "<legend>Ship to</legend>", html=True)
    assertContains(
        returning_page,
        f'<input type="radio" name="address" value="{default.pk}" id="id_address_0" '
        "checked>",
        html=True,
    )
    assertContains(
        returning_page,
        "Ada Lovelace, 12 St James&#x27;s Square, SW1Y 4JH London, United Kingdom",
    )
    assertContains(returning_page, "Ada Lovelace, 4 Rue de Rivoli, 75004 Paris, France")
    assertContains(
        returning_page,
        '<label for="id_address_2"><input type="radio" name="address" value="new" '
        'id="id_address_2">A new address (fill in below)</label>',
        html=True,
    )
    # The fields stay optional in the browser: they are for a new address.
    assertContains(
        returning_page,
        '<input type="text" name="city" autocomplete="shipping address-level2" '
        'maxlength="100" id="id_city">',
        html=True,
    )


def test_the_country_is_chosen_by_its_name(checkout_page):
    assertContains(
        checkout_page, '<option value="GB">United Kingdom</option>', html=True
    )
    assertContains(checkout_page, '<option value="DE">Germany</option>', html=True)


def test_a_customer_ships_to_a_saved_address_without_typing_it(
    shopper_client, returning_page, saved
):
    data = checkout_data(returning_page, address=saved[1].pk, **NO_ADDRESS_TYPED)

    response = shopper_client.post(CHECKOUT, data)

    order = Order.objects.get()
    assertRedirects(response, order.get_absolute_url())
    assert order.shipping_address == saved[1].as_shipping_address()


@pytest.mark.parametrize(("ticked", "book"), [("on", 3), (None, 2)])
def test_a_new_address_is_kept_in_the_book_when_asked(
    shopper_client, returning_page, shopper, ticked, book
):
    data = checkout_data(
        returning_page,
        address="new",
        city="Berlin",
        postal_code="10115",
        country="DE",
        save_address=ticked,
    )

    shopper_client.post(CHECKOUT, data)

    order = Order.objects.get()
    assert (order.shipping_address["city"], order.shipping_address["country"]) == (
        "Berlin",
        "DE",
    )
    assert shopper.addresses.count() == book
    # Kept beside the default, not in its place.
    assert shopper.addresses.get(is_default_shipping=True).city == "London"


def test_a_first_address_saved_at_checkout_becomes_the_default(
    shopper_client, checkout_page, shopper
):
    shopper_client.post(CHECKOUT, checkout_data(checkout_page, save_address="on"))

    assert list(shopper.addresses.values_list("line1", "is_default_shipping")) == [
        ("12 St James's Square", True)
    ]


def test_a_new_address_still_needs_its_fields(shopper_client, returning_page):
    data = checkout_data(returning_page, address="new", city="")

    response = shopper_client.post(CHECKOUT, data)

    assert response.status_code == 400
    assert field_errors(response, "city") == ["This field is required."]
    assertContains(
        response,
        '<input type="radio" name="address" value="new" id="id_address_2" checked>',
        html=True,
        status_code=400,
    )


def test_an_address_typed_while_a_saved_one_is_chosen_is_not_ignored(
    shopper_client, returning_page, saved
):
    data = checkout_data(returning_page, address=saved[0].pk, city="Paris")

    response = shopper_client.post(CHECKOUT, data)

    assert response.status_code == 400
    assert field_errors(response, "address") == [
        "You typed a new address: choose “A new address” to ship there, or clear "
        "the address fields to use your saved one."
    ]
    assert not Order.objects.exists()


def test_an_address_deleted_since_the_page_was_shown_is_refused_beside_the_choice(
    shopper_client, returning_page, saved
):
    data = checkout_data(returning_page, address=saved[1].pk, **NO_ADDRESS_TYPED)
    saved[1].delete()

    response = shopper_client.post(CHECKOUT, data)

    assert response.status_code == 400
    assert field_errors(response, "address") == [OUT_OF_DATE_ADDRESS]
    assert not Order.objects.exists()


def test_a_saved_address_the_rules_now_refuse_is_named_beside_the_choice(
    shopper_client, returning_page, saved
):
    Address.objects.filter(pk=saved[0].pk).update(postal_code="12345")
    data = checkout_data(returning_page, address=saved[0].pk, **NO_ADDRESS_TYPED)

    response = shopper_client.post(CHECKOUT, data)

    assert response.status_code == 400
    [message] = field_errors(response, "address")
    assert message.startswith("This saved address needs a change before it can be used")
    assert not Order.objects.exists()


# --- Checkout: shipping methods ------------------------------------------------------


@pytest.fixture
def uk_methods(settings):
    """Royal Mail (4.95, free from 50.00) and a courier (9.00) to the UK, the
    store's country."""
    settings.STORE_COUNTRY = "GB"
    shipping_zone(
        "UK",
        ["GB"],
        [
            method_data("royal-mail", name="Royal Mail", free_above=Decimal("50.00")),
            method_data("courier", price=Decimal("9.00"), estimated_days=1),
        ],
    )


@pytest.fixture
def methods_page(shopper_client, cart_of_two_mugs, uk_methods):
    return shopper_client.get(CHECKOUT)


def test_the_checkout_offers_each_method_with_its_cost_and_total(methods_page):
    assertContains(methods_page, "<legend>Shipping method</legend>", html=True)
    assertContains(methods_page, "Royal Mail: 4.95\N{NO-BREAK SPACE}USD, total 29.95")
    assertContains(methods_page, "Courier: 9.00\N{NO-BREAK SPACE}USD, total 34.00")
    assert hidden(methods_page, "expected_total_courier") == "34.00"
    assertContains(
        methods_page,
        "Courier: 9.00\N{NO-BREAK SPACE}USD, "
        "total 34.00\N{NO-BREAK SPACE}USD, about 1 day<",
    )
    assertContains(methods_page, "about 3 days")
    assertContains(
        methods_page,
        "For delivery to United Kingdom, by the shipping method chosen; each "
        "method shows its own total.",
    )


def test_the_cheapest_method_to_the_default_address_is_chosen_at_first(
    shopper_client, cart_of_two_mugs, uk_methods, shopper
):
    AddressFactory(user=shopper, is_default_shipping=True)  # in London

    page = shopper_client.get(CHECKOUT)

    assertContains(
        page,
        '<input type="radio" name="shipping_method" value="royal-mail" '
        'id="id_shipping_method_0" checked>',
        html=True,
    )


def test_the_cheapest_method_to_the_stores_country_is_chosen_without_a_saved_address(
    methods_page,
):
    # As the cart's estimate was.
    assertContains(
        methods_page,
        '<input type="radio" name="shipping_method" value="royal-mail" '
        'id="id_shipping_method_0" checked>',
        html=True,
    )


def test_the_shopper_ships_by_the_method_chosen(shopper_client, methods_page):
    data = checkout_data(methods_page, shipping_method="courier")

    response = shopper_client.post(CHECKOUT, data)

    order = Order.objects.get()
    assertRedirects(response, order.get_absolute_url())
    assert (order.shipping_method_name, order.shipping_cost, order.total) == (
        "Courier",
        Decimal("9.00"),
        Decimal("34.00"),
    )
    assertContains(
        shopper_client.get(order.get_absolute_url()), "<dt>Shipping (Courier)</dt>"
    )


def test_no_method_chosen_for_a_country_with_methods_is_named_beside_the_field(
    shopper_client, methods_page
):
    response = shopper_client.post(CHECKOUT, checkout_data(methods_page))

    assert response.status_code == 400
    assert field_errors(response, "shipping_method") == [
        "Choose how to ship to United Kingdom: royal-mail, courier."
    ]
    assert not Order.objects.exists()


def test_a_methods_total_tampered_with_is_an_out_of_date_page(
    shopper_client, methods_page
):
    data = checkout_data(
        methods_page, shipping_method="courier", expected_total_courier="free"
    )

    response = shopper_client.post(CHECKOUT, data)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [OUT_OF_DATE]
    assert not Order.objects.exists()


def test_a_methods_price_raised_since_the_page_is_a_price_change(
    shopper_client, methods_page
):
    ShippingMethod.objects.filter(code="courier").update(price=Decimal("12.00"))

    response = shopper_client.post(
        CHECKOUT, checkout_data(methods_page, shipping_method="courier")
    )

    assert response.status_code == 409
    assertContains(response, "The total is now 37.00 USD, not 34.00", status_code=409)
    assert not Order.objects.exists()


# --- The order page -------------------------------------------------------------------


@pytest.fixture
def order(shopper):
    return OrderFactory(
        user=shopper,
        lines=[
            (product("Blue mug", price="12.50"), 2),
            (product("Teapot", price="30.00"), 1),
        ],
        note="Ring twice",
    )


def test_the_order_page_shows_lines_totals_status_history_and_address(
    shopper_client, order
):
    response = shopper_client.get(f"/orders/{order.number}/")

    assert response.status_code == 200
    assertContains(response, f"<h1>Order {order.number}</h1>")
    assertContains(
        response,
        '<strong class="status status-pending">Pending payment</strong>',
    )
    assertContains(
        response,
        f'<tr><th scope="row">Blue mug <span class="sku">{order.items.first().sku}'
        f'</span></th><td class="number">12.50{NBSP}USD</td><td class="number">2</td>'
        f'<td class="number">25.00{NBSP}USD</td></tr>',
        html=True,
    )
    assertContains(response, f"<dt>Subtotal</dt><dd>55.00{NBSP}USD</dd>")
    assertContains(response, "<dt>Shipping</dt><dd>Free</dd>")
    assertContains(response, f'<dd class="total">55.00{NBSP}USD</dd>')
    assertContains(response, "12 St James&#x27;s Square<br>")
    assertContains(response, "<p>Note: Ring twice</p>")
    assertContains(response, "<li><strong>Pending payment</strong>")
    assertContains(response, '<label for="id_card_number">Card number</label>')
    assertContains(
        response,
        '<button type="submit" class="button-wide">Pay now</button>',
        html=True,
    )
    assertContains(
        response, '<button type="submit" class="secondary">Cancel order</button>'
    )


def test_the_order_page_reads_a_fixed_number_of_queries(
    shopper_client, shopper, django_assert_num_queries
):
    order = OrderFactory(
        user=shopper, lines=[(product(f"Mug {number}"), 1) for number in range(5)]
    )
    shopper_client.get(order.get_absolute_url())

    # The session, the user, the order, its lines and history, the header's
    # cart count.
    with django_assert_num_queries(6):
        shopper_client.get(order.get_absolute_url())


def test_staff_see_any_order_without_paying_or_cancelling_it(client, order):
    client.force_login(StaffFactory())

    response = client.get(order.get_absolute_url())

    assert response.status_code == 200
    assertContains(response, f"<h1>Order {order.number}</h1>")
    assertNotContains(response, "Pay now")
    assertNotContains(response, "Cancel order")


def test_another_customers_order_is_not_found(client, order):
    client.force_login(UserFactory())

    response = client.get(order.get_absolute_url())

    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)


@pytest.mark.parametrize(
    "path",
    [
        "/orders/SW-0000-0000/",
        "/orders/%00/",
        "/orders/sw-0000-0000/",
        "/orders/x/pay/",
    ],
)
def test_an_unknown_order_number_is_not_found(shopper_client, path):
    response = shopper_client.get(path)

    assert response.status_code == 404


def test_the_order_page_sends_an_anonymous_visitor_to_log_in(client, order):
    response = client.get(order.get_absolute_url())

    assertRedirects(
        response,
        f"/accounts/login/?next=/orders/{order.number}/",
        fetch_redirect_response=False,
    )


# --- Paying ---------------------------------------------------------------------------


def pay_url(order):
    return f"/orders/{order.number}/pay/"


def test_paying_with_an_approved_card_marks_the_order_paid(shopper_client, order):
    response = shopper_client.post(pay_url(order), {"card_number": APPROVED_CARD})

    assertRedirects(response, order.get_absolute_url())
    assert messages_of(response) == [
        f"Thank you! Your payment is received: {order.number} is paid."
    ]
    order.refresh_from_db()
    assert order.status == "paid"
    page = shopper_client.get(order.get_absolute_url())
    assertContains(page, '<strong class="status status-paid">Paid</strong>')
    assertContains(page, "<li><strong>Paid</strong>")
    assertNotContains(page, "Pay now")
    assertNotContains(page, "Cancel order")


def test_a_card_number_with_spaces_is_accepted(shopper_client, order):
    shopper_client.post(pay_url(order), {"card_number": "4242 4242 4242 4242"})

    order.refresh_from_db()
    assert order.status == "paid"


def test_a_declined_card_says_so_and_leaves_the_order_pending(shopper_client, order):
    response = shopper_client.post(pay_url(order), {"card_number": DECLINED_CARD})

    assertRedirects(response, order.get_absolute_url())
    assert messages_of(response) == [
        "Payment declined: The card was declined. Nothing was charged, and order "
        f"{order.number} is still waiting for payment."
    ]
    order.refresh_from_db()
    assert order.status == "pending"
    assert Payment.objects.get(order=order).outcome == "declined"


@pytest.mark.parametrize(
    ("card_number", "message"),
    [
        ("4242424242424241", "Enter a valid card number (12 to 19 digits)."),
        ("not a card", "Enter a valid card number (12 to 19 digits)."),
        ("", "This field is required."),
        ("4" * 41, "Ensure this value has at most 40 characters (it has 41)."),
    ],
)
def test_an_invalid_card_number_shows_beside_the_field(
    shopper_client, order, card_number, message
):
    response = shopper_client.post(pay_url(order), {"card_number": card_number})

    assert response.status_code == 400
    assertContains(
        response,
        f'<ul class="errorlist" id="id_card_number_error"><li>{message}</li></ul>',
        html=True,
        status_code=400,
    )
    if card_number:
        assertContains(response, f'value="{card_number}"', status_code=400)
    order.refresh_from_db()
    assert order.status == "pending"
    assert Payment.objects.filter(order=order).count() == 0


def test_paying_an_order_already_paid_says_why_not(shopper, shopper_client):
    order = PaidOrderFactory(user=shopper)

    response = shopper_client.post(pay_url(order), {"card_number": APPROVED_CARD})

    assertRedirects(response, order.get_absolute_url())
    assert messages_of(response) == [
        f"Order {order.number} is paid: only a pending order can be paid."
    ]
    assert Payment.objects.filter(order=order).count() == 1


def test_another_customer_cannot_pay_an_order(client, order):
    client.force_login(UserFactory())

    response = client.post(pay_url(order), {"card_number": APPROVED_CARD})

    assert response.status_code == 404
    assert Payment.objects.count() == 0


def test_pay_answers_only_posts(shopper_client, order):
    response = shopper_client.get(pay_url(order))

    assert response.status_code == 405


# --- Cancelling -----------------------------------------------------------------------


def test_the_customer_cancels_a_pending_order_and_the_stock_returns(
    shopper_client, shopper
):
    pan = product("Cast-iron pan", stock=5)
    order = OrderFactory(user=shopper, lines=[(pan, 2)])

    response = shopper_client.post(f"/orders/{order.number}/cancel/")

    assertRedirects(response, order.get_absolute_url())
    assert messages_of(response) == [f"Order {order.number} is cancelled."]
    order.refresh_from_db()
    assert order.status == "cancelled"
    pan.refresh_from_db()
    assert pan.stock == 5


def test_a_paid_order_cannot_be_cancelled_by_the_customer(shopper, shopper_client):
    order = PaidOrderFactory(user=shopper)

    response = shopper_client.post(f"/orders/{order.number}/cancel/")

    assertRedirects(response, order.get_absolute_url())
    assert messages_of(response) == [
        f"Order {order.number} is paid: only a pending order can be cancelled by "
        "you. Contact us to cancel it."
    ]
    order.refresh_from_db()
    assert order.status == "paid"


def test_another_customer_cannot_cancel_an_order(client, order):
    client.force_login(UserFactory())

    response = client.post(f"/orders/{order.number}/cancel/")

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "pending"


def test_order_forms_need_the_csrf_token(shopper, order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)

    response = client.post(f"/orders/{order.number}/cancel/")

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "pending"


# --- The order history ----------------------------------------------------------------


def test_the_history_lists_the_customers_orders_newest_first(shopper_client, shopper):
    first = OrderFactory(user=shopper)
    second = PaidOrderFactory(user=shopper)
    OrderFactory()  # someone else's

    response = shopper_client.get(HISTORY)

    assert response.status_code == 200
    assert list(response.context["orders"]) == [second, first]
    assertContains(
        response,
        f'<a href="/orders/{second.number}/">{second.number}</a>',
    )
    assertContains(response, '<span class="status status-paid">Paid</span>')
    assertContains(
        response, '<span class="status status-pending">Pending payment</span>'
    )
    assertContains(response, f'<td class="number">24.99{NBSP}USD</td>', count=2)


def test_the_history_is_paginated_ten_orders_a_page(shopper_client, shopper):
    orders = [OrderFactory(user=shopper) for _ in range(11)]

    first_page = shopper_client.get(HISTORY)
    second_page = shopper_client.get(HISTORY, {"page": 2})

    assert len(first_page.context["orders"]) == 10
    assertContains(first_page, '<a rel="next" href="?page=2">Next</a>')
    assert list(second_page.context["orders"]) == [orders[0]]


@pytest.mark.parametrize(("page", "shown"), [("abc", 1), ("0", 2), ("99", 2)])
def test_a_bad_page_number_shows_the_first_or_last_page(
    shopper_client, shopper, page, shown
):
    for _ in range(11):
        OrderFactory(user=shopper)

    response = shopper_client.get(HISTORY, {"page": page})

    assert response.status_code == 200
    assert response.context["page_obj"].number == shown


def test_the_history_without_orders_says_so(shopper_client):
    response = shopper_client.get(HISTORY)

    assertContains(response, "You have no orders yet.")


def test_the_history_needs_a_login(client):
    response = client.get(HISTORY)

    assertRedirects(
        response,
        "/accounts/login/?next=/account/orders/",
        fetch_redirect_response=False,
    )


def test_the_history_reads_a_fixed_number_of_queries(
    shopper_client, shopper, django_assert_num_queries
):
    for _ in range(4):
        OrderFactory(user=shopper)
    shopper_client.get(HISTORY)

    # The session, the user, the count, the page of orders, the guest orders
    # of the user's address (to claim), the cart count.
    with django_assert_num_queries(6):
        shopper_client.get(HISTORY)


def test_the_account_page_and_the_header_link_to_the_history(shopper_client):
    response = shopper_client.get("/account/")

    assertContains(response, '<a href="/account/orders/">Your orders</a>')
    assertContains(response, '<a href="/account/orders/">Orders</a>')


def test_the_order_pages_have_no_inline_script_or_style(shopper_client, order):
    for path in (order.get_absolute_url(), HISTORY):
        content = shopper_client.get(path).content.decode()

        assert "<script" not in content
        assert " style=" not in content


def test_the_order_page_shows_the_options_sold(shopper_client, shopper):
    small = red_tee().variants.get(sku="TEE-RED-S")
    order = OrderFactory(user=shopper, lines=[(small, 1)])

    response = shopper_client.get(f"/orders/{order.number}/")

    assertContains(
        response,
        '<th scope="row">Tee <span class="options">Colour: Red, Size: S</span> '
        '<span class="sku">TEE-RED-S</span></th>',
        html=True,
    )
