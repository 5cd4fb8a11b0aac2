"""Hostile input to the API: malformed bodies, bad numbers, odd characters, injections.

Every request here is refused with the contract's problem+json error, and
the database is unchanged afterwards (the `unchanged` fixture compares
every row a request could touch).
"""

import pytest
from django.conf import settings

from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unchanged")]

ADDRESS = {
    "full_name": "Alice Liddell",
    "line1": "1 Rabbit Hole",
    "city": "Oxford",
    "postal_code": "OX1 1AA",
    "country": "GB",
}

# --- Malformed and oversized JSON, wrong content types --------------------------------

MALFORMED_JSON = [
    '{"product": 1, "quantity": ',
    "{'product': 1}",
    '{"product": 1, "quantity": 1}}',
    "NaN",
    "\x00\x01\x02",
    '{"a": ' * 10_000 + "1" + "}" * 10_000,
    "[" * 100_000,
]


@pytest.mark.parametrize("body", MALFORMED_JSON)
def test_malformed_json_is_a_parse_error(alice_client, body):
    response = alice_client.post(
        "/api/v1/cart/items/", data=body, content_type="application/json"
    )

    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(
    "body",
    ["[]", '"a string"', "42", "null", "true", '[{"product": 1, "quantity": 1}]'],
)
def test_json_that_is_not_an_object_is_a_validation_error(alice_client, body):
    response = alice_client.post(
        "/api/v1/cart/items/", data=body, content_type="application/json"
    )

    assert_problem(response, 400, "validation_error")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/token/", "[1, 2]"),
        ("/api/v1/auth/token/refresh/", '"x"'),
        ("/api/v1/auth/register/", "[]"),
        ("/api/v1/orders/", "[]"),
        ("/api/v1/users/me/", "[]"),
    ],
)
def test_non_object_bodies_never_fail_the_server(alice_client, path, body):
    method = alice_client.patch if path.endswith("me/") else alice_client.post

    response = method(path, data=body, content_type="application/json")

    assert response.status_code in {400, 401}
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/json-patch+json",
    ],
)
def test_a_body_in_another_content_type_is_415(alice_client, content_type):
    response = alice_client.post(
        "/api/v1/cart/items/",
        data=b"product=1&quantity=1",
        content_type=content_type,
    )

    assert_problem(response, 415, "unsupported_media_type")


def test_json_with_a_wrong_charset_is_a_parse_error(alice_client):
    response = alice_client.post(
        "/api/v1/cart/items/",
        data='{"quantity": "\u00e9"}'.encode("utf-16"),
        content_type="application/json",
    )

    assert_problem(response, 400, "parse_error")


# --- Quantities and prices: huge, negative, not numbers -------------------------------

BAD_QUANTITIES = [
    0,
    -1,
    -(2**63),
    1001,
    2**31,
    2**63,
    10**400,
    1.5,
    "1e3",
    "ten",
    "",
    None,
    True,
    [1],
    {"value": 1},
    "NaN",
    "Infinity",
    "1; DROP TABLE carts_cartitem",
]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_a_cart_line_with_a_bad_quantity_is_refused(alice_client, store, quantity):
    response = alice_client.post(
        "/api/v1/cart/items/",
        {"product": store["teapot"].pk, "quantity": quantity},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["quantity"]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_changing_a_line_to_a_bad_quantity_is_refused(alice_client, store, quantity):
    response = alice_client.patch(
        f"/api/v1/cart/items/{store['line'].pk}/",
        {"quantity": quantity},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["quantity"]


@pytest.mark.parametrize(
    "product", [-1, 0, 2**63, "1", "kettle", None, 1.5, [1], "1 OR 1=1"]
)
def test_a_cart_line_for_an_impossible_product_is_refused(alice_client, product):
    response = alice_client.post(
        "/api/v1/cart/items/", {"product": product, "quantity": 1}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["product"]


BAD_PRICES = [
    "0",
    "0.00",
    "-1.00",
    "0.001",
    "1e400",
    "100000000.00",
    "NaN",
    "Infinity",
    "-Infinity",
    "12,50",
    "ten",
    "",
    None,
    [],
    "1.00; DROP TABLE catalog_product",
]


@pytest.mark.parametrize("price", BAD_PRICES)
def test_a_product_with_a_bad_price_is_refused(staff_client, store, price):
    response = staff_client.post(
        "/api/v1/products/",
        {"sku": "NEW-1", "name": "New", "price": price, "category": "tea"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["price"]


@pytest.mark.parametrize("price", BAD_PRICES)
def test_changing_a_price_to_a_bad_one_is_refused(staff_client, store, price):
    response = staff_client.patch(
        "/api/v1/products/kettle/", {"price": price}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["price"]


@pytest.mark.parametrize("stock", [-1, 2**31, 10**400, 1.5, "many", None])
def test_a_bad_stock_figure_is_refused(staff_client, store, stock):
    response = staff_client.patch(
        "/api/v1/products/kettle/", {"stock": stock}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["stock"]


@pytest.mark.parametrize("total", ["-1.00", "1e400", "NaN", "abc", "1000000000.00"])
def test_a_checkout_with_a_bad_expected_total_is_refused(alice_client, store, total):
    response = alice_client.post(
        "/api/v1/orders/",
        {"shipping_address": ADDRESS, "expected_total": total},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["expected_total"]


@pytest.mark.parametrize(
    "query",
    [
        "min_price=abc",
        "max_price=1e400",
        "min_price=NaN",
        "max_price=-Infinity",
        "min_price=" + "9" * 5000,
        "in_stock=maybe",
        "ordering=password",
        "ordering=-price;DROP",
        "page=0",
        "page=-1",
        "page=9" * 40,
        "page_size=abc",
        "category=" + "a" * 5000,
    ],
)
def test_bad_product_filters_are_400_naming_the_parameter(api_client, store, query):
    response = api_client.get(f"/api/v1/products/?{query}")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [query.split("=")[0]]


# --- Unicode, control characters, very long strings -----------------------------------

CONTROL_TEXTS = [
    "a\u0000b",
    "\u0000",
    "tab\tnew\nline\rreturn",
    "\u0007\u0008\u001b[31m",
    "\ufeffbom",
    "\u202eevil\u202c",
    "\u00e9t\u00e9 caf\u00e9",
    "\U0001f600" * 50,
    "e\u0301\u0301\u0301",
]


@pytest.mark.parametrize("text", [t for t in CONTROL_TEXTS if "\u0000" in t])
def test_nul_characters_in_text_fields_are_refused(alice_client, alice, text):
    response = alice_client.patch(
        "/api/v1/users/me/", {"first_name": text}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["first_name"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/token/", {"email": "a\u0000@example.com", "password": "x"}),
        ("/api/v1/auth/register/", {"email": "\u0000", "password": "\u0000" * 12}),
        ("/api/v1/auth/token/refresh/", {"refresh": "\u0000"}),
        ("/api/v1/cart/items/", {"product": "\u0000", "quantity": "\u0000"}),
        ("/api/v1/orders/", {"shipping_address": dict.fromkeys(ADDRESS, "\u0000")}),
        ("/api/v1/orders/", {"shipping_address": ADDRESS, "note": "\u0000"}),
    ],
)
def test_nul_characters_anywhere_in_a_body_are_refused(alice_client, path, body):
    response = alice_client.post(path, body, format="json")

    assert response.status_code in {400, 401}
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "tea\u0000"),
        ("slug", "new\u0000"),
        ("sku", "NUL\u0000SKU"),
        ("name", "Nul\u0000name"),
        ("description", "\u0000"),
    ],
)
def test_nul_characters_in_product_fields_are_refused(
    staff_client, store, field, value
):
    data = {"sku": "NEW-1", "name": "New", "price": "9.99", "category": "tea"}

    response = staff_client.post("/api/v1/products/", {**data, field: value})

    body = assert_problem(response, 400, "validation_error")
    if field != "category":
        assert list(body["errors"]) == [field]


@pytest.mark.parametrize("text", [t for t in CONTROL_TEXTS if "\u0000" not in t])
def test_other_unicode_in_a_search_is_a_normal_search(api_client, store, text):
    response = api_client.get("/api/v1/products/", {"search": text})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("raw", ["%ED%A0%BD", "%FF%FE", "%C0%AF", "%E2%80%AE"])
def test_invalid_utf8_in_a_query_is_a_normal_search(api_client, store, raw):
    response = api_client.get(f"/api/v1/products/?search={raw}")

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "field", "limit"),
    [
        ("/api/v1/users/me/", "first_name", 150),
        ("/api/v1/users/me/", "email", 254),
    ],
)
def test_over_long_profile_fields_are_refused(alice_client, path, field, limit):
    value = "a" * (limit + 1) if field != "email" else "a" * limit + "@example.com"

    response = alice_client.patch(path, {field: value}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [field]


@pytest.mark.parametrize(
    ("field", "length"),
    [
        ("full_name", 201),
        ("line1", 201),
        ("city", 101),
        ("postal_code", 21),
        ("phone", 31),
        ("country", 3),
    ],
)
def test_over_long_address_fields_are_refused(alice_client, store, field, length):
    address = {**ADDRESS, field: "1" * length}

    response = alice_client.post(
        "/api/v1/orders/", {"shipping_address": address}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [f"shipping_address.{field}"]


def test_an_over_long_order_note_is_refused(alice_client, store):
    response = alice_client.post(
        "/api/v1/orders/",
        {"shipping_address": ADDRESS, "note": "n" * 1001},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["note"]


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("full_name", "Alice\u0007\u001b[31m"),
        ("line1", "\u202e1 Rabbit Hole"),
        ("city", "Ox\u007fford"),
        ("phone", "\u0085+44 1865 000000\u0090"),
        ("note", "Ring\u0008twice"),
    ],
)
def test_control_characters_in_an_address_or_note_are_refused(
    alice_client, store, field, text
):
    body = {"shipping_address": ADDRESS}
    if field == "note":
        body["note"] = text
    else:
        body["shipping_address"] = {**ADDRESS, field: text}

    response = alice_client.post("/api/v1/orders/", body, format="json")

    body = assert_problem(response, 400, "validation_error")
    name = field if field == "note" else f"shipping_address.{field}"
    assert body["errors"] == {
        name: ["Remove the control characters: use printable text only."]
    }


def test_an_over_long_idempotency_key_is_refused(alice_client, store):
    response = alice_client.post(
        "/api/v1/orders/",
        {"shipping_address": ADDRESS},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 101,
    )

    assert_problem(response, 400, "validation_error")


def test_an_over_long_search_is_refused(api_client, store):
    response = api_client.get("/api/v1/products/", {"search": "tea " * 1000})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["search"]


def test_a_huge_email_at_login_is_401_without_work(api_client, alice):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"email": "a" * 100_000 + "@example.com", "password": "p" * 100_000},
        format="json",
    )

    assert response.status_code in {400, 401}
    assert response["Content-Type"] == "application/problem+json"


# --- SQL and template injection in every filter and search ----------------------------

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE catalog_product; --",
    '" OR ""="',
    "1 UNION SELECT password FROM accounts_user --",
    "%' AND 1=0 UNION SELECT NULL --",
    "\\'; SELECT pg_sleep(5); --",
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "${7*7}",
    "<%= 7*7 %>",
    "%s%s%s%s",
    "%(password)s",
    "_",
    "%",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_in_the_product_search_finds_nothing(api_client, store, text):
    response = api_client.get("/api/v1/products/", {"search": text})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    # Echoed as given (the contract's `search.query`), never evaluated.
    assert response.json()["search"]["query"] == text
    assert settings.SECRET_KEY not in response.content.decode()


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize("parameter", ["category", "ordering", "in_stock"])
def test_injection_in_a_product_filter_is_400(api_client, store, parameter, text):
    response = api_client.get("/api/v1/products/", {parameter: text})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize("parameter", ["min_price", "max_price"])
def test_injection_in_a_price_bound_is_400(api_client, store, parameter, text):
    response = api_client.get("/api/v1/products/", {parameter: text})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_in_the_users_search_finds_nothing(staff_client, store, text):
    response = staff_client.get("/api/v1/users/", {"search": text})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/users/", "is_staff"),
        ("/api/v1/users/", "ordering"),
        ("/api/v1/orders/", "status"),
        ("/api/v1/orders/", "user"),
    ],
)
def test_injection_in_a_staff_filter_is_400(staff_client, store, path, parameter, text):
    response = staff_client.get(path, {parameter: text})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_in_a_slug_path_is_404(api_client, store, text):
    response = api_client.get(f"/api/v1/products/{text}/")

    assert response.status_code in {400, 404}
    assert response["Content-Type"] == "application/problem+json"
