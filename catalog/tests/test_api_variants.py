"""The catalog API's variants: the product answer, the variant endpoints, the filter."""

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIRequestFactory

from catalog import queries, services
from catalog.api.serializers import ProductSerializer
from catalog.models import Product, ProductVariant, StockMovement
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SizedProductFactory,
    TeeFactory,
)
from core.testing import assert_answer_matches, assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def variants_url(product):
    return f"{PRODUCTS}{product.slug}/variants/"


def variant_url(variant):
    return f"{variants_url(variant.product)}{variant.pk}/"


def skus(response):
    return sorted(product["sku"] for product in response.json()["results"])


# --- The product answer ---------------------------------------------------------------


def test_the_product_shows_its_variants_option_types_and_from_price(api_client):
    product = TeeFactory()

    body = api_client.get(f"{PRODUCTS}{product.slug}/").json()

    assert (body["price"], body["compare_at_price"], body["stock"]) == (
        "15.00",
        "20.00",
        5,
    )
    assert body["option_types"] == [
        {"name": "Colour", "values": ["Red", "Blue"]},
        {"name": "Size", "values": ["S", "M"]},
    ]
    assert [
        (v["sku"], v["options"], v["price"], v["compare_at_price"], v["in_stock"])
        for v in body["variants"]
    ] == [
        ("TEE-RED-S", {"Colour": "Red", "Size": "S"}, "15.00", "20.00", True),
        ("TEE-RED-M", {"Colour": "Red", "Size": "M"}, "16.00", None, False),
        ("TEE-BLUE-M", {"Colour": "Blue", "Size": "M"}, "17.00", None, True),
    ]


def test_inactive_variants_are_shown_to_staff_only(api_client, staff_client):
    product = TeeFactory()
    services.update_variant(
        variant=product.variants.get(sku="TEE-RED-S"), is_active=False
    )
    url = f"{PRODUCTS}{product.slug}/"

    public = api_client.get(url).json()
    staff = staff_client.get(url).json()

    assert [v["sku"] for v in public["variants"]] == ["TEE-RED-M", "TEE-BLUE-M"]
    assert len(staff["variants"]) == 3
    assert (public["price"], public["compare_at_price"]) == ("16.00", None)
    assert [v["sku"] for v in api_client.get(variants_url(product)).json()] == [
        "TEE-RED-M",
        "TEE-BLUE-M",
    ]


def test_the_answer_of_a_product_with_variants_is_product_serializers():
    product = TeeFactory()
    services.update_variant(
        variant=product.variants.get(sku="TEE-RED-M"), is_active=False
    )
    product = Product.objects.with_category().with_variants().get(pk=product.pk)
    request = APIRequestFactory().get("/")

    for staff in (False, True):
        answer = queries.product_representation(product, request=request, staff=staff)
        expected = ProductSerializer(
            product, context={"request": request, "staff": staff}
        ).data
        assert_answer_matches(answer, expected, "Product")
    cached = Client().get(f"{PRODUCTS}{product.slug}/")
    assert cached.json() == queries.product_representation(product, request=request)


# --- The variant endpoints ------------------------------------------------------------


def test_staff_add_a_variant_with_its_initial_stock(staff_client):
    product = TeeFactory()

    response = staff_client.post(
        variants_url(product),
        {
            "sku": "TEE-BLUE-S",
            "options": {"Colour": "Blue", "Size": "S"},
            "price": "9.00",
            "stock": 4,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    variant = ProductVariant.objects.get(sku="TEE-BLUE-S")
    assert response.json() == queries.variant_representation(variant)
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("9.00"), 9)
    assert StockMovement.objects.get(variant=variant).quantity == 4


def test_a_customer_cannot_add_a_variant(customer_client):
    product = TeeFactory()

    response = customer_client.post(
        variants_url(product), {"sku": "X", "price": "1.00"}, format="json"
    )

    assert_problem(response, 403, "permission_denied")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "TEE-RED-S", "options": {"Colour": "Blue", "Size": "S"}}, "sku"),
        ({"sku": "NEW", "options": {"Colour": "Green", "Size": "S"}}, "options"),
        ({"sku": "NEW", "options": {"Size": "S"}}, "options"),
        ({"sku": "NEW", "options": {"Colour": "Red", "Size": "S"}}, "options"),
        (
            {
                "sku": "NEW",
                "options": {"Colour": "Blue", "Size": "S"},
                "compare_at_price": "1.00",
            },
            "compare_at_price",
        ),
    ],
)
def test_a_bad_variant_is_400_naming_the_field(staff_client, body, field):
    product = TeeFactory()

    response = staff_client.post(
        variants_url(product), {"price": "5.00", **body}, format="json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == [field]
    assert product.variants.count() == 3


def test_staff_change_a_variants_price_and_stock(
    staff_client, api_client, django_capture_on_commit_callbacks
):
    product = TeeFactory()
    variant = product.variants.get(sku="TEE-BLUE-M")
    api_client.get(f"{PRODUCTS}{product.slug}/")  # cached

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.patch(
            variant_url(variant), {"price": "5.00", "stock": 7}, format="json"
        )

    assert response.status_code == 200
    assert (response.json()["price"], response.json()["stock"]) == ("5.00", 7)
    public = api_client.get(f"{PRODUCTS}{product.slug}/").json()
    assert (public["price"], public["stock"]) == ("5.00", 9)
    movement = StockMovement.objects.filter(variant=variant).latest("pk")
    assert (movement.quantity, movement.reason) == (4, "adjustment")


def test_deleting_the_last_variant_is_409(staff_client):
    product = ProductFactory()

    response = staff_client.delete(variant_url(product.variants.get()))

    assert_problem(response, 409, "conflict")
    assert product.variants.count() == 1


def test_staff_delete_a_variant(staff_client):
    product = TeeFactory()
    variant = product.variants.get(sku="TEE-RED-S")

    response = staff_client.delete(variant_url(variant))

    assert response.status_code == 204
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("16.00"), 3)


def test_a_variant_of_another_product_is_404(staff_client):
    other = ProductFactory()
    variant = TeeFactory().variants.first()

    response = staff_client.patch(
        f"{variants_url(other)}{variant.pk}/", {"price": "1.00"}, format="json"
    )

    assert response.status_code == 404


# --- Products and their variants ------------------------------------------------


def test_staff_create_a_product_with_option_types_and_variants(staff_client):
    category = CategoryFactory(name="Hats")

    response = staff_client.post(
        PRODUCTS,
        {
            "sku": "HAT",
            "name": "Hat",
            "category": category.slug,
            "option_types": [{"name": "Size", "values": ["S", "L"]}],
            "variants": [
                {"sku": "HAT-S", "options": {"Size": "S"}, "price": "8.00"},
                {"sku": "HAT-L", "options": {"Size": "L"}, "price": "9.00", "stock": 2},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["price"], body["stock"]) == ("8.00", 2)
    assert [v["sku"] for v in body["variants"]] == ["HAT-S", "HAT-L"]


def test_a_product_created_without_variants_gets_its_default_variant(staff_client):
    category = CategoryFactory(name="Mugs")

    response = staff_client.post(
        PRODUCTS,
        {"sku": "MUG", "name": "Mug", "category": category.slug, "price": "4.00"},
        format="json",
    )

    assert response.status_code == 201
    assert [
        (v["sku"], v["options"], v["price"]) for v in response.json()["variants"]
    ] == [("MUG", {}, "4.00")]


def test_a_product_without_price_nor_variants_is_400(staff_client):
    response = staff_client.post(
        PRODUCTS,
        {"sku": "MUG", "name": "Mug", "category": CategoryFactory().slug},
        format="json",
    )

    assert list(assert_problem(response, 400, "validation_error")["errors"]) == [
        "price"
    ]


@pytest.mark.parametrize("field", ["price", "stock"])
def test_patching_the_price_or_stock_of_a_product_with_variants_is_400(
    staff_client, field
):
    product = TeeFactory()

    response = staff_client.patch(
        f"{PRODUCTS}{product.slug}/", {field: 3}, format="json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == [field]


def test_patching_the_price_of_a_single_variant_product_writes_its_variant(
    staff_client,
):
    product = ProductFactory(price=Decimal("3.00"))

    response = staff_client.patch(
        f"{PRODUCTS}{product.slug}/", {"price": "4.00"}, format="json"
    )

    assert response.json()["variants"][0]["price"] == "4.00"
    assert product.variants.get().price == Decimal("4.00")


def test_option_types_given_to_a_default_product_name_its_variant(staff_client):
    product = ProductFactory()

    response = staff_client.patch(
        f"{PRODUCTS}{product.slug}/",
        {"option_types": [{"name": "Size", "values": ["M", "L"]}]},
        format="json",
    )

    assert response.json()["variants"][0]["options"] == {"Size": "M"}


# --- The option filter ----------------------------------------------------------------


def test_the_option_filter_ands_names_and_ors_values(
    api_client, django_capture_on_commit_callbacks
):
    TeeFactory()
    shirt = SizedProductFactory(sku="SHIRT")
    ProductFactory(sku="MUG")

    def found(*options):
        return skus(api_client.get(PRODUCTS, {"option": list(options)}))

    assert found("Size:M") == ["SHIRT", "TEE"]
    assert found("Size:S", "Colour:Blue") == []  # no one variant is both
    assert found("Size:M", "Colour:Blue") == ["TEE"]
    assert found("Size:S", "Size:L") == ["SHIRT", "TEE"]
    assert found("Colour:Red", "Size:L") == []
    with django_capture_on_commit_callbacks(execute=True):
        services.update_variant(
            variant=shirt.variants.get(sku="SHIRT-M"), is_active=False
        )
    assert found("Size:M") == ["TEE"]


@pytest.mark.parametrize("option", ["size", "size:", ":M", "", "Size:M\x00"])
def test_a_malformed_option_is_400(api_client, option):
    response = api_client.get(PRODUCTS, {"option": option})

    if option == "":
        assert response.status_code == 200
        return
    problem = assert_problem(response, 400, "validation_error")
    assert list(problem["errors"]) == ["option"]
