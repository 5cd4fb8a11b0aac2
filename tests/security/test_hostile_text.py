"""Control and bidi characters in the names people and staff write.

A terminal escape, a backspace or a right-to-left override in a product,
category or person's name would be shown on pages, in the admin and in
e-mails, where it can hide or reorder the text around it. Each is refused
with the message beside its field (400 naming it in the API, the form again
on pages and in the admin), and the `unchanged` fixture proves that no row
moved. Ordinary Unicode stays accepted, and text is stored in NFC.
"""

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.otp import log_in_to_the_admin
from catalog.models import Category, Product
from catalog.tests.factories import image_inline_form
from core.testing import assert_problem
from core.text import BIDI_CONTROLS, CONTROL_MESSAGE
from orders.models import Order
from tests.security.test_hostile_api_input import ADDRESS
from tests.security.test_hostile_page_forms import field_error, page_of

pytestmark = pytest.mark.django_db
refused = pytest.mark.usefixtures("unchanged")

CONTROL_CHARACTERS = {
    "bell": "\u0007",
    "backspace": "\u0008",
    "escape": "\u001b[2J",
    "delete": "\u007f",
    "next-line": "\u0085",
    "c1-csi": "\u009b31m",
    "tab": "\t",
    "line-feed": "\n",
    "carriage-return": "\r",
}
BIDI = {f"U+{ord(character):04X}": character for character in sorted(BIDI_CONTROLS)}
HOSTILE = {**CONTROL_CHARACTERS, **BIDI}
# Refused in descriptions too, where line breaks and tabs are welcome.
HOSTILE_IN_LINES = {
    name: text
    for name, text in HOSTILE.items()
    if name not in {"tab", "line-feed", "carriage-return"}
}
# People's names as they write them, invisible joiners and marks included.
ORDINARY_NAMES = [
    "Zoë Ünal-Ørsted",
    "王小明",
    "محمد عبد الله",
    "שלום עליכם",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "\U0001f469\u200d\U0001f4bb",
    "Order \u200f12\u200e",
]
DECOMPOSED, COMPOSED = "Cafe\u0301 Ame\u0301lie", "Café Amélie"

NEW_PRODUCT = {"sku": "NEW-1", "name": "New", "price": "9.99", "category": "tea"}
PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def admin_client(staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client = Client()
    log_in_to_the_admin(client, staff)
    return client


# --- Products and categories through the API ------------------------------------------


@refused
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_control_characters_in_a_product_name_are_refused_naming_it(staff_client, text):
    response = staff_client.post(
        "/api/v1/products/", {**NEW_PRODUCT, "name": f"Tea{text}pot"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"name": [CONTROL_MESSAGE]}


@refused
@pytest.mark.parametrize("text", HOSTILE_IN_LINES.values(), ids=HOSTILE_IN_LINES)
@pytest.mark.parametrize("field", ["sku", "description"])
def test_control_characters_in_a_products_sku_or_description_are_refused(
    staff_client, field, text
):
    response = staff_client.post(
        "/api/v1/products/", {**NEW_PRODUCT, field: f"A{text}1"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {field: [CONTROL_MESSAGE]}


@refused
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_renaming_a_product_with_a_control_character_is_refused(
    staff_client, store, text
):
    response = staff_client.patch(
        "/api/v1/products/kettle/", {"name": f"Ket{text}tle"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"name": [CONTROL_MESSAGE]}


@refused
@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("name", "Green\u202eaeT"),
        ("name", "Green\u2066Tea"),
        ("name", "Green\tTea"),
        ("name", "Green\u001b[31mTea"),
        ("description", "Leaves\u202e"),
        ("description", "Leaves\u0008"),
    ],
)
def test_control_characters_in_a_category_are_refused_naming_the_field(
    staff_client, field, text
):
    response = staff_client.post(
        "/api/v1/categories/", {"name": "Green Tea", field: text}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {field: [CONTROL_MESSAGE]}


def test_line_breaks_and_tabs_in_a_description_are_kept(staff_client, store):
    description = "Holds 1.5 l.\r\n\tBoils in 3 minutes.\nCordless."

    response = staff_client.post(
        "/api/v1/products/", {**NEW_PRODUCT, "description": description}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="NEW-1").description == description


@pytest.mark.parametrize("name", ORDINARY_NAMES)
def test_ordinary_unicode_in_product_and_category_names_is_accepted(
    staff_client, store, name
):
    category = staff_client.post("/api/v1/categories/", {"name": name}, format="json")
    product = staff_client.post(
        "/api/v1/products/", {**NEW_PRODUCT, "name": name}, format="json"
    )

    assert (category.status_code, product.status_code) == (201, 201)
    assert Category.objects.get(slug=category.json()["slug"]).name == name
    assert Product.objects.get(sku="NEW-1").name == name


def test_a_decomposed_accent_in_a_product_is_stored_composed(staff_client, store):
    response = staff_client.post(
        "/api/v1/products/",
        {**NEW_PRODUCT, "name": DECOMPOSED, "description": DECOMPOSED},
        format="json",
    )

    product = Product.objects.get(sku="NEW-1")
    assert (product.name, product.description) == (COMPOSED, COMPOSED)
    assert response.json()["name"] == COMPOSED


def test_a_decomposed_accent_in_a_category_is_stored_composed(staff_client, store):
    response = staff_client.post(
        "/api/v1/categories/",
        {"name": DECOMPOSED, "description": DECOMPOSED},
        format="json",
    )

    category = Category.objects.get(slug=response.json()["slug"])
    assert (category.name, category.description) == (COMPOSED, COMPOSED)


# --- Addresses ------------------------------------------------------------------------


def test_a_decomposed_accent_in_an_address_is_stored_composed(alice_client, store):
    address = {**ADDRESS, "full_name": DECOMPOSED, "city": "Zu\u0308rich"}

    response = alice_client.post(
        "/api/v1/orders/", {"shipping_address": address}, format="json"
    )

    assert response.status_code == 201, response.content
    stored = Order.objects.get(number=response.json()["number"]).shipping_address
    assert (stored["full_name"], stored["city"]) == (COMPOSED, "Zürich")


# --- People's names through the API ---------------------------------------------------


@refused
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_a_name_at_registration_are_refused(
    api_client, field, text
):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "eve@example.com", "password": PASSWORD, field: f"Eve{text}lyn"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {field: [CONTROL_MESSAGE]}


@refused
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_ones_own_name_are_refused(
    alice_client, alice, field, text
):
    before = (alice.first_name, alice.last_name)

    response = alice_client.patch(
        "/api/v1/users/me/", {field: f"Ali{text}ce"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {field: [CONTROL_MESSAGE]}
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == before


@refused
def test_staff_cannot_give_a_user_a_name_with_a_control_character(staff_client, alice):
    response = staff_client.patch(
        f"/api/v1/users/{alice.pk}/", {"first_name": "\u202eecilA"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {"first_name": [CONTROL_MESSAGE]}


@pytest.mark.parametrize("name", ORDINARY_NAMES)
def test_ordinary_unicode_names_are_accepted_at_registration(api_client, name):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "eve@example.com", "password": PASSWORD, "first_name": name},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert User.objects.get(email="eve@example.com").first_name == name


def test_a_decomposed_accent_in_a_name_is_stored_composed(api_client, alice_client):
    registered = api_client.post(
        "/api/v1/auth/register/",
        {"email": "eve@example.com", "password": PASSWORD, "last_name": DECOMPOSED},
        format="json",
    )
    changed = alice_client.patch(
        "/api/v1/users/me/", {"first_name": DECOMPOSED}, format="json"
    )

    assert (registered.json()["last_name"], changed.json()["first_name"]) == (
        COMPOSED,
        COMPOSED,
    )
    assert User.objects.get(email="eve@example.com").last_name == COMPOSED
    assert User.objects.get(email="alice@example.com").first_name == COMPOSED


# --- People's names on the pages ------------------------------------------------------


@refused
@pytest.mark.parametrize(
    "text", ["Eve\u0007", "\u202enevE", "Eve\u2068lyn", "Eve\u001b[31m", "E\rve"]
)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_a_name_on_the_register_page_are_shown_beside_it(
    client, field, text
):
    response = client.post(
        "/accounts/register/",
        {
            "email": "eve@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            field: text,
        },
    )

    page = page_of(response, 200)
    assert field_error(page, f"id_{field}_error") == [CONTROL_MESSAGE]


@refused
@pytest.mark.parametrize("text", ["Alice\u0008", "\u202eecilA", "Al\u2069ice"])
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_a_name_on_the_account_page_are_shown_beside_it(
    alice, field, text
):
    client = Client()
    client.force_login(alice)
    before = (alice.first_name, alice.last_name)

    response = client.post(
        "/account/",
        {"email": alice.email, "first_name": "Alice", "last_name": "L", field: text},
    )

    page = page_of(response, 200)
    assert field_error(page, f"id_profile_{field}_error") == [CONTROL_MESSAGE]
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == before


def test_a_decomposed_accent_on_the_register_page_is_stored_composed(client):
    client.post(
        "/accounts/register/",
        {
            "email": "eve@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": DECOMPOSED,
        },
    )

    assert User.objects.get(email="eve@example.com").first_name == COMPOSED


# --- The admin ------------------------------------------------------------------------


@refused
@pytest.mark.parametrize("field", ["sku", "name", "description"])
def test_control_characters_in_a_product_in_the_admin_are_shown_beside_the_field(
    admin_client, store, field
):
    form = {
        "sku": "NEW-1",
        "name": "New",
        "category": store["category"].pk,
        "description": "",
        "price": "9.99",
        "is_active": "on",
        "stock_change": "",
        "stock_reference": "",
        field: "New\u202e1-WEN",
        **image_inline_form(),
    }

    response = admin_client.post("/admin/catalog/product/add/", form)

    page = page_of(response, 200)
    assert field_error(page, f"id_{field}_error") == [CONTROL_MESSAGE]


@refused
@pytest.mark.parametrize("field", ["name", "description"])
def test_control_characters_in_a_category_in_the_admin_are_shown_beside_the_field(
    admin_client, field
):
    form = {"name": "Green", "slug": "green", "position": "0", field: "Gr\u0007een"}

    response = admin_client.post("/admin/catalog/category/add/", form)

    page = page_of(response, 200)
    assert field_error(page, f"id_{field}_error") == [CONTROL_MESSAGE]


@refused
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_a_user_in_the_admin_are_shown_beside_the_field(
    admin_client, alice, field
):
    form = {
        "email": alice.email,
        "first_name": "Alice",
        "last_name": "Liddell",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        field: "Alice\u001b[31m",
    }

    response = admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", form)

    page = page_of(response, 200)
    assert field_error(page, f"id_{field}_error") == [CONTROL_MESSAGE]


def test_a_decomposed_accent_in_the_admin_is_stored_composed(admin_client, store):
    form = {
        "sku": "NEW-1",
        "name": DECOMPOSED,
        "category": store["category"].pk,
        "description": DECOMPOSED,
        "price": "9.99",
        "is_active": "on",
        "stock_change": "",
        "stock_reference": "",
        **image_inline_form(),
    }

    response = admin_client.post("/admin/catalog/product/add/", form)

    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-1")
    assert (product.name, product.description) == (COMPOSED, COMPOSED)
