from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def skus(response):
    assert response.status_code == 200, response.content
    return [product["sku"] for product in response.json()["results"]]


def make(sku, *, price="10.00", name=None, days_old=0, **fields):
    product = ProductFactory(sku=sku, name=name or sku, price=Decimal(price), **fields)
    # Fixed creation times, so that the newest-first order is certain.
    created = timezone.now() - timedelta(days=days_old)
    Product.objects.filter(pk=product.pk).update(created_at=created)
    return product


def test_category_filter_includes_the_products_of_subcategories(api_client):
    kitchen = CategoryFactory(name="Kitchen")
    mugs = CategoryFactory(name="Mugs", parent=kitchen)
    tea_mugs = CategoryFactory(name="Tea Mugs", parent=mugs)
    garden = CategoryFactory(name="Garden")
    make("POT", category=kitchen, days_old=1)
    make("MUG", category=mugs, days_old=2)
    make("TEA-MUG", category=tea_mugs, days_old=3)
    make("SPADE", category=garden)

    assert skus(api_client.get(PRODUCTS, {"category": "kitchen"})) == [
        "POT",
        "MUG",
        "TEA-MUG",
    ]
    assert skus(api_client.get(PRODUCTS, {"category": "mugs"})) == ["MUG", "TEA-MUG"]
    assert skus(api_client.get(PRODUCTS, {"category": "garden"})) == ["SPADE"]


def test_unknown_category_is_400_naming_the_parameter(api_client):
    response = api_client.get(PRODUCTS, {"category": "nope"})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["category"]


def test_price_bounds_are_inclusive(api_client):
    make("CHEAP", price="5.00", days_old=3)
    make("MID", price="10.00", days_old=2)
    make("DEAR", price="20.00", days_old=1)

    assert skus(api_client.get(PRODUCTS, {"min_price": "10"})) == ["DEAR", "MID"]
    assert skus(api_client.get(PRODUCTS, {"max_price": "10.00"})) == ["MID", "CHEAP"]
    assert skus(api_client.get(PRODUCTS, {"min_price": "5", "max_price": "10"})) == [
        "MID",
        "CHEAP",
    ]


@pytest.mark.parametrize("parameter", ["min_price", "max_price"])
@pytest.mark.parametrize("value", ["abc", "NaN", "1e", "Infinity"])
def test_a_price_bound_that_is_not_a_number_is_400(api_client, parameter, value):
    response = api_client.get(PRODUCTS, {parameter: value})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [parameter]


def test_in_stock_filter_splits_products_by_stock(api_client):
    make("FULL", stock=3)
    make("EMPTY", stock=0)

    assert skus(api_client.get(PRODUCTS, {"in_stock": "true"})) == ["FULL"]
    assert skus(api_client.get(PRODUCTS, {"in_stock": "false"})) == ["EMPTY"]


@pytest.mark.parametrize("value", ["maybe", "1", "yes", "TRUE"])
def test_in_stock_other_than_true_or_false_is_400(api_client, value):
    response = api_client.get(PRODUCTS, {"in_stock": value})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["in_stock"]


def test_search_looks_for_words_in_name_description_and_sku_ignoring_case(
    api_client,
):
    make("MUG-1", name="Blue Mug", description="Stoneware", days_old=1)
    make("CUP-1", name="Tea cup", description="A blue glaze", days_old=2)
    make("BLU-9", name="Plate", description="Plain", days_old=3)
    make("POT-1", name="Pot", description="Cast iron", days_old=4)

    # The name's match first, then the description's.
    assert skus(api_client.get(PRODUCTS, {"search": "BLUE"})) == ["MUG-1", "CUP-1"]
    assert skus(api_client.get(PRODUCTS, {"search": "stoneWARE"})) == ["MUG-1"]
    assert skus(api_client.get(PRODUCTS, {"search": "pot-1"})) == ["POT-1"]
    assert skus(api_client.get(PRODUCTS, {"search": "blu-9"})) == ["BLU-9"]


def test_search_with_several_words_needs_all_of_them(api_client):
    make("MUG-1", name="Blue Mug")
    make("MUG-2", name="Red Mug")

    assert skus(api_client.get(PRODUCTS, {"search": "mug blue"})) == ["MUG-1"]


def test_a_search_that_is_too_long_is_400(api_client):
    response = api_client.get(PRODUCTS, {"search": "x" * 101})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["search"]


def test_default_order_is_newest_first(api_client):
    make("OLD", days_old=3)
    make("NEW", days_old=0)
    make("MIDDLE", days_old=1)

    assert skus(api_client.get(PRODUCTS)) == ["NEW", "MIDDLE", "OLD"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["B", "C", "A"]),
        ("-price", ["A", "C", "B"]),
        ("name", ["A", "B", "C"]),
        ("-name", ["C", "B", "A"]),
        ("created_at", ["C", "A", "B"]),
        ("-created_at", ["B", "A", "C"]),
    ],
)
def test_every_ordering(api_client, ordering, expected):
    make("A", name="Apple", price="30.00", days_old=2)
    make("B", name="Banana", price="10.00", days_old=1)
    make("C", name="Cherry", price="20.00", days_old=3)

    assert skus(api_client.get(PRODUCTS, {"ordering": ordering})) == expected


def test_products_with_equal_sort_keys_keep_a_stable_order_across_pages(api_client):
    for index in range(6):
        make(f"P{index}", price="10.00")

    first = skus(api_client.get(PRODUCTS, {"ordering": "price", "page_size": 3}))
    second = skus(
        api_client.get(PRODUCTS, {"ordering": "price", "page_size": 3, "page": 2})
    )

    assert sorted(first + second) == [f"P{index}" for index in range(6)]


@pytest.mark.parametrize("value", ["stock", "-sku", "price;drop", "random"])
def test_an_unknown_ordering_is_400(api_client, value):
    response = api_client.get(PRODUCTS, {"ordering": value})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["ordering"]


def test_filters_combine(api_client):
    kitchen = CategoryFactory(name="Kitchen")
    make("MUG-1", name="Blue mug", price="8.00", category=kitchen)
    make("MUG-2", name="Blue mug large", price="15.00", category=kitchen)
    make("MUG-3", name="Blue mug empty", price="9.00", category=kitchen, stock=0)
    make("MUG-4", name="Blue mug", price="8.00")

    response = api_client.get(
        PRODUCTS,
        {
            "category": "kitchen",
            "search": "blue",
            "max_price": "10",
            "in_stock": "true",
        },
    )

    assert skus(response) == ["MUG-1"]


def test_staff_filter_by_the_active_flag(staff_client):
    make("ON", days_old=1)
    make("OFF", is_active=False)

    assert skus(staff_client.get(PRODUCTS)) == ["OFF", "ON"]
    assert skus(staff_client.get(PRODUCTS, {"is_active": "false"})) == ["OFF"]
    assert skus(staff_client.get(PRODUCTS, {"is_active": "true"})) == ["ON"]


def test_the_public_cannot_list_inactive_products_with_the_active_filter(api_client):
    make("ON")
    make("OFF", is_active=False)

    assert skus(api_client.get(PRODUCTS, {"is_active": "false"})) == []


def test_a_bad_active_flag_is_400(staff_client):
    response = staff_client.get(PRODUCTS, {"is_active": "maybe"})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["is_active"]


# --- Pagination ---------------------------------------------------------------


def test_list_pages_with_links_to_the_next_and_previous_page(api_client):
    for index in range(5):
        make(f"P{index}", days_old=index)

    first = api_client.get(PRODUCTS, {"page_size": 2})
    last = api_client.get(PRODUCTS, {"page_size": 2, "page": 3})

    assert first.json()["count"] == 5
    assert skus(first) == ["P0", "P1"]
    assert first.json()["previous"] is None
    assert (
        first.json()["next"] == "http://testserver/api/v1/products/?page=2&page_size=2"
    )
    assert skus(last) == ["P4"]
    assert last.json()["next"] is None
    assert (
        last.json()["previous"]
        == "http://testserver/api/v1/products/?page=2&page_size=2"
    )


def test_filters_are_kept_in_the_page_links(api_client):
    for index in range(3):
        make(f"P{index}", stock=index + 1)

    response = api_client.get(PRODUCTS, {"page_size": 1, "in_stock": "true"})

    assert response.json()["next"] == (
        "http://testserver/api/v1/products/?in_stock=true&page=2&page_size=1"
    )


def test_a_page_past_the_end_is_404(api_client):
    make("ONLY")

    assert_problem(api_client.get(PRODUCTS, {"page": 2}), 404, "not_found")


def test_an_empty_catalog_has_one_empty_page(api_client):
    response = api_client.get(PRODUCTS)

    assert response.json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize(
    ("parameter", "value"), [("page", "0"), ("page", "x"), ("page_size", "-1")]
)
def test_a_page_or_size_that_is_not_a_positive_whole_number_is_400(
    api_client, parameter, value
):
    response = api_client.get(PRODUCTS, {parameter: value})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [parameter]


def test_page_size_is_capped_at_100(api_client):
    category = CategoryFactory()
    ProductFactory.create_batch(101, category=category, stock=0)

    response = api_client.get(PRODUCTS, {"page_size": 500})

    assert response.json()["count"] == 101
    assert len(response.json()["results"]) == 100


def test_the_schema_documents_every_product_filter(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    parameters = response.json()["paths"]["/api/v1/products/"]["get"]["parameters"]
    documented = {parameter["name"]: parameter for parameter in parameters}
    assert set(documented) == {
        "category",
        "min_price",
        "max_price",
        "in_stock",
        "on_sale",
        "is_active",
        "option",
        "search",
        "ordering",
        "page",
        "page_size",
    }
    assert documented["in_stock"]["schema"]["enum"] == ["false", "true"]
    assert sorted(documented["ordering"]["schema"]["items"]["enum"]) == [
        "-created_at",
        "-name",
        "-price",
        "created_at",
        "name",
        "price",
        "relevance",
    ]
