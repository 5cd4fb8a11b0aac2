"""Hostile input to the pages' forms: the cart, the checkout, payment and cancel.

What a fuzzer or an attacker types into the shopping flow's forms: huge,
negative, non-numeric and unicode quantities, NUL and other control
characters, very long strings, script and template syntax, ids that are not
numbers or belong to another shopper, tampered hidden fields and missing
CSRF tokens. Each gets the form again with the error beside its field (or a
message on the page it lands on, or a 404, or the CSRF 403 page), never a
500; and the `unchanged` fixture (tests/security/conftest.py) proves afterwards
that no row moved: no stock taken, no cart line, order, payment or status
change made.

The store: Alice's cart holds one Kettle (stock 8); her pending order of
two Teapots (stock 5 left) gave her a saved address, so her checkout form
offers it and takes a typed one only with "A new address" chosen.
"""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.addresses import CONTROL_MESSAGE
from carts.forms import QUANTITY_ERRORS
from carts.views import LINE_GONE
from orders.forms import NEW, OUT_OF_DATE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unchanged")]

SCRIPT = "<script>alert('pwned')</script>"
TEMPLATE = "{{ settings.SECRET_KEY }}{% debug %}"
NOT_WHOLE = QUANTITY_ERRORS["invalid"]
AT_MOST = QUANTITY_ERRORS["max_value"]
NOT_FOR_SALE = "That product is not for sale."
NUL_MESSAGE = "Null characters are not allowed."
CARD_MESSAGE = "Enter a valid card number (12 to 19 digits)."


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_of(response, status):
    """The page's HTML, checked for the status, hostile markup and leaks."""
    page = response.content.decode()
    assert response.status_code == status, page[:500]
    assert SCRIPT not in page
    assert "test-only-" not in page  # the test settings' secret key
    assert "Traceback" not in page
    return page


def field_error(page, error_id):
    """The messages of the error list with this id (beside its field)."""
    found = re.search(rf'<ul class="errorlist[^"]*" id="{error_id}">(.*?)</ul>', page)
    assert found, f"no error list {error_id} on the page"
    return re.findall(r"<li>(.*?)</li>", found.group(1))


@pytest.fixture
def alice_page(alice):
    return logged_in(alice)


@pytest.fixture
def mallory_page(mallory):
    return logged_in(mallory)


# --- The cart: add, update, remove -------------------------------------------------

# (what is typed as the quantity, the error beside the field)
BAD_QUANTITIES = [
    ("99999999999999999999999", AT_MOST),
    ("1001", AT_MOST),
    ("9" * 5000, NOT_WHOLE),  # above Python's 4,300-digit int() limit
    ("-5", NOT_WHOLE),
    ("0", NOT_WHOLE),
    ("two", NOT_WHOLE),
    ("1.5", NOT_WHOLE),
    ("1e3", NOT_WHOLE),
    ("0x10", NOT_WHOLE),
    ("\u00bd", NOT_WHOLE),  # ½
    ("\u2460", NOT_WHOLE),  # ① (a digit to Unicode, not a decimal one)
    ("1\u200b", NOT_WHOLE),  # a zero-width space after the 1
    ("1\u0000", NOT_WHOLE),
    ("\u0000", NOT_WHOLE),
    (SCRIPT, NOT_WHOLE),
    (TEMPLATE, NOT_WHOLE),
    ("1; DROP TABLE carts_cartitem", NOT_WHOLE),
    ("", QUANTITY_ERRORS["required"]),
]


@pytest.mark.parametrize(("quantity", "message"), BAD_QUANTITIES)
@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_a_hostile_quantity_to_add_is_shown_beside_the_field(
    store, alice_page, who, quantity, message
):
    client = alice_page if who == "alice" else Client()

    response = client.post(
        "/cart/add/", {"product": store["kettle"].pk, "quantity": quantity}
    )

    page = page_of(response, 400)
    assert "<h1>Kettle</h1>" in page
    assert field_error(page, "quantity_error") == [message]


def test_a_missing_quantity_to_add_is_shown_beside_the_field(store, alice_page):
    response = alice_page.post("/cart/add/", {"product": store["kettle"].pk})

    page = page_of(response, 400)
    assert field_error(page, "quantity_error") == ["Enter a quantity."]


@pytest.mark.parametrize(
    "product",
    [
        None,  # missing
        "",
        "kettle",
        "1 OR 1=1",
        "-1",
        "0",
        "1.0",
        "9" * 30,
        "9" * 5000,
        "1\u0000",
        "\u0663",  # an Arabic-Indic 3: a number to int(), an id of nobody
        SCRIPT,
        "unknown",
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_adding_a_product_that_is_not_one_for_sale_says_so(
    store, alice_page, who, product
):
    client = alice_page if who == "alice" else Client()
    if product == "unknown":
        product = store["teapot"].pk + 1000
    data = {"quantity": 1} if product is None else {"product": product, "quantity": 1}

    response = client.post("/cart/add/", data)

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert messages_of(response) == [NOT_FOR_SALE]


@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_adding_a_variant_of_another_product_is_refused_on_the_products_page(
    store, alice_page, who
):
    client = alice_page if who == "alice" else Client()

    response = client.post(
        "/cart/add/",
        {
            "product": store["teapot"].pk,
            "variant": store["kettle"].variants.get().pk,
            "quantity": 1,
        },
    )

    page = page_of(response, 400)
    assert "<h1>Teapot</h1>" in page
    assert '<ul class="errorlist"><li>This variant is not for sale.</li></ul>' in page


def test_a_unicode_digit_quantity_is_read_as_the_number_it_writes(store, alice_page):
    # Python, Django's forms and DRF read any Unicode decimal digit: three
    # Arabic-Indic digits are a quantity like any other, within the limits.
    response = alice_page.post(
        "/cart/add/", {"product": store["kettle"].pk, "quantity": "\u0661\u0662"}
    )

    page = page_of(response, 409)
    assert field_error(page, "quantity_error") == [
        "Only 8 of Kettle in stock, and your cart already holds 1."
    ]


@pytest.mark.parametrize(("quantity", "message"), BAD_QUANTITIES)
def test_a_hostile_quantity_for_a_line_is_shown_beside_that_line(
    store, alice_page, quantity, message
):
    line = store["line"]

    response = alice_page.post(f"/cart/items/{line.pk}/", {"quantity": quantity})

    page = page_of(response, 400)
    assert field_error(page, f"line-{line.pk}-quantity_error") == [message]
    assert "<h1>Your cart</h1>" in page


@pytest.mark.parametrize("action", ["", "remove/"])
@pytest.mark.parametrize("who", ["anonymous", "mallory"])
def test_another_shoppers_line_id_is_not_in_the_cart(store, mallory_page, who, action):
    client = mallory_page if who == "mallory" else Client()

    response = client.post(f"/cart/items/{store['line'].pk}/{action}", {"quantity": 7})

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert messages_of(response) == [LINE_GONE]


@pytest.mark.parametrize(
    "line_id",
    ["abc", "-1", "1.0", "1%00", "%3Cscript%3E", "1%20OR%201=1", "\u0661"],
)
@pytest.mark.parametrize("action", ["", "remove/"])
def test_a_line_id_that_is_not_a_number_is_404(store, alice_page, line_id, action):
    response = alice_page.post(f"/cart/items/{line_id}/{action}", {"quantity": 2})

    page_of(response, 404)


@pytest.mark.parametrize("action", ["", "remove/"])
def test_a_line_id_beyond_any_database_id_is_not_in_the_cart(store, alice_page, action):
    response = alice_page.post(f"/cart/items/{'9' * 30}/{action}", {"quantity": 2})

    assert response.status_code == 302
    assert messages_of(response) == [LINE_GONE]


# --- The checkout's address form ---------------------------------------------------


def hidden(page, name):
    return re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)[1]


@pytest.fixture
def checkout(store, alice_page):
    """What Alice's checkout page sends: a new address and its hidden fields."""
    page = page_of(alice_page.get("/checkout/"), 200)
    return {
        "address": NEW,
        "full_name": "Alice Liddell",
        "line1": "1 Rabbit Hole",
        "city": "Oxford",
        "postal_code": "OX1 1AA",
        "country": "GB",
        "expected_total": hidden(page, "expected_total"),
        "idempotency_key": hidden(page, "idempotency_key"),
    }


LONGEST = {
    "full_name": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "postal_code": 20,
    "country": 2,
    "phone": 30,
    "note": 1000,
}


@pytest.mark.parametrize("field", list(LONGEST))
def test_a_very_long_address_field_is_shown_beside_the_field(
    alice_page, checkout, field
):
    typed = "7" * 5000

    response = alice_page.post("/checkout/", {**checkout, field: typed})

    page = page_of(response, 400)
    assert field_error(page, f"id_{field}_error") == [
        f"Ensure this value has at most {LONGEST[field]} characters (it has 5000)."
    ]


@pytest.mark.parametrize("field", list(LONGEST))
def test_a_nul_character_in_an_address_field_is_shown_beside_the_field(
    alice_page, checkout, field
):
    typed = "G\u0000" if field == "country" else "G\u0000B"

    response = alice_page.post("/checkout/", {**checkout, field: typed})

    page = page_of(response, 400)
    assert field_error(page, f"id_{field}_error") == [NUL_MESSAGE]


@pytest.mark.parametrize(
    "text",
    [
        "Alice\u0007\u0008",  # bell, backspace
        "\u001b[31mAlice",  # a terminal colour escape
        "Ali\u007fce",  # delete
        "Alice\u0090",  # a C1 control
        "\u202eecilA",  # right-to-left override
        "Alice\u2066",  # left-to-right isolate
    ],
)
@pytest.mark.parametrize("field", ["full_name", "line1", "line2", "city", "note"])
def test_control_characters_in_an_address_field_are_shown_beside_the_field(
    alice_page, checkout, field, text
):
    response = alice_page.post("/checkout/", {**checkout, field: text})

    page = page_of(response, 400)
    assert field_error(page, f"id_{field}_error") == [CONTROL_MESSAGE]


NOT_A_COUNTRY = "Enter a two-letter ISO 3166-1 country code, such as US or DE."


@pytest.mark.parametrize(
    ("country", "message"),
    [
        ("ZZ", NOT_A_COUNTRY),
        ("XX", NOT_A_COUNTRY),
        ("G", NOT_A_COUNTRY),
        ("G1", NOT_A_COUNTRY),
        ("\u00c9U", NOT_A_COUNTRY),
        ("<>", NOT_A_COUNTRY),
        ("{{", NOT_A_COUNTRY),
        ("--", NOT_A_COUNTRY),
        ("GBR", "Ensure this value has at most 2 characters (it has 3)."),
        ("  ", "This field is required."),
    ],
)
def test_a_bad_country_is_shown_beside_the_field(
    alice_page, checkout, country, message
):
    response = alice_page.post("/checkout/", {**checkout, "country": country})

    page = page_of(response, 400)
    assert field_error(page, "id_country_error") == [message]


def test_script_and_template_syntax_in_every_field_are_typed_back_as_text(
    alice_page, checkout
):
    # The country refuses the form; every other field shows what was typed,
    # escaped, and the template syntax is never evaluated.
    typed = {field: f"{SCRIPT}{TEMPLATE}"[: LONGEST[field]] for field in LONGEST}
    typed["country"] = "<s"

    response = alice_page.post("/checkout/", {**checkout, **typed})

    page = page_of(response, 400)
    assert (
        'value="&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;{{ settings'
        in (page)
    )
    assert "{% debug %}" in page
    assert field_error(page, "id_country_error") == [NOT_A_COUNTRY]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"expected_total": "thirty"}, 400),
        ({"expected_total": "-0.01"}, 400),
        ({"expected_total": "NaN"}, 400),
        ({"expected_total": "-Infinity"}, 400),
        ({"expected_total": "sNaN"}, 400),
        ({"expected_total": "1\u0000"}, 400),
        ({"expected_total": "9" * 5000}, 409),
        ({"expected_total": "1e999999"}, 409),
        ({"expected_total": "0.01"}, 409),
        ({"expected_total": "0"}, 409),
        ({"idempotency_key": "has spaces"}, 400),
        ({"idempotency_key": "k" * 101}, 400),
        ({"idempotency_key": "k" * 100_000}, 400),
        ({"idempotency_key": "\u043a\u043b\u044e\u0447"}, 400),  # ключ
        ({"idempotency_key": "key\u0000"}, 400),
    ],
)
def test_a_tampered_hidden_field_shows_the_checkout_again(
    alice_page, checkout, changes, status
):
    response = alice_page.post("/checkout/", {**checkout, **changes})

    page = page_of(response, status)
    errors = re.search(r'<ul class="errorlist nonfield">(.*?)</ul>', page)[1]
    if status == 400:
        assert errors == f"<li>{OUT_OF_DATE}</li>"
    else:  # any other total is a price change: the real one is shown
        assert "The total is now" in errors
    # The page offers its own figures again, not the tampered ones.
    assert hidden(page, "expected_total") == checkout["expected_total"]
    assert re.fullmatch(r"[\w-]{32}", hidden(page, "idempotency_key"))


# --- CSRF --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/cart/add/", {"product": "kettle", "quantity": 1}),
        ("/cart/items/line/", {"quantity": 3}),
        ("/cart/items/line/remove/", {}),
        ("/checkout/", {"address": "saved"}),
        ("/orders/order/pay/", {"card_number": "4242424242424242"}),
        ("/orders/order/cancel/", {}),
    ],
)
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_a_page_form_without_its_csrf_token_is_the_403_page(
    store, alice, path, data, token
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    path = path.replace("line", str(store["line"].pk)).replace(
        "order/", f"{store['order'].number}/"
    )
    data = {
        key: store["kettle"].pk if value == "kettle" else value
        for key, value in data.items()
    }
    if token == "forged":
        client.get("/products/kettle/")  # a real CSRF cookie
        data["csrfmiddlewaretoken"] = "x" * 64

    response = client.post(path, data)

    page = page_of(response, 403)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "CSRF verification failed" in page


# --- Paying and cancelling ---------------------------------------------------------


@pytest.mark.parametrize(
    ("card_number", "message"),
    [
        ("not a card", CARD_MESSAGE),
        ("4242-4242-4242-4241", CARD_MESSAGE),  # fails the Luhn check
        ("4" * 40, CARD_MESSAGE),
        ("4" * 5000, "Ensure this value has at most 40 characters (it has 5000)."),
        ("4242424242424242\u0000", NUL_MESSAGE),
        ("\u0664\u0662" * 8, CARD_MESSAGE),  # Arabic-Indic digits
        ("\uff14\uff12" * 8, CARD_MESSAGE),  # full-width digits
        ("4242424242424242\u200b", CARD_MESSAGE),
        ("4.242424242424242e15", CARD_MESSAGE),
        (SCRIPT, CARD_MESSAGE),
        (TEMPLATE, CARD_MESSAGE),
        ("", "This field is required."),
        ("   ", "This field is required."),
    ],
)
def test_a_hostile_card_number_is_shown_beside_the_field(
    store, alice_page, card_number, message
):
    response = alice_page.post(
        f"/orders/{store['order'].number}/pay/", {"card_number": card_number}
    )

    page = page_of(response, 400)
    assert field_error(page, "id_card_number_error") == [message]


@pytest.mark.parametrize("action", ["pay/", "cancel/", ""])
def test_another_customers_order_is_404_to_pay_cancel_or_read(
    store, mallory_page, action
):
    path = f"/orders/{store['order'].number}/{action}"
    data = {"card_number": "4242424242424242"}

    response = (mallory_page.get if not action else mallory_page.post)(path, data)

    page_of(response, 404)


@pytest.mark.parametrize(
    "number",
    [
        "sw-lower",
        "SW-NOT-THERE",
        "A" * 21,
        "%00",
        "SW%0A",
        "%3Cscript%3E",
        "..%2F..%2Fadmin",
        "1%20OR%201=1",
    ],
)
@pytest.mark.parametrize("action", ["pay/", "cancel/"])
def test_a_hostile_order_number_is_404(store, alice_page, number, action):
    response = alice_page.post(
        f"/orders/{number}/{action}", {"card_number": "4242424242424242"}
    )

    page_of(response, 404)


def test_an_anonymous_visitor_paying_or_cancelling_is_sent_to_log_in(store, client):
    number = store["order"].number

    responses = [
        client.post(f"/orders/{number}/{action}/", {"card_number": "4242424242424242"})
        for action in ("pay", "cancel")
    ]

    assert [response.status_code for response in responses] == [302, 302]
    assert all(
        response["Location"].startswith("/accounts/login/?next=")
        for response in responses
    )
