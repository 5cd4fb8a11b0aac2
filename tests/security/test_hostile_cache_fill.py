"""An anonymous client filling the catalog's read cache with made-up query strings.

The public catalog reads (API and pages) are cached in Redis, one entry per
answer. A client that makes up query strings must not make an entry each:
the key holds only the parameters the answer depends on, in one order, so
made-up parameters share the entry of the query without them, and a query
that is not an answer of its own (a malformed value, a page past the end)
stores nothing. Entries are counted in Redis by the key's kind.
"""

import random
import string

import pytest
from django.core.cache import cache

from core.testing import assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


@pytest.fixture
def made_up():
    """A source of random query parameters, the same on every run."""
    source = random.Random(15)

    def query():
        name = "".join(source.choices(string.ascii_lowercase + "_[]", k=8))
        value = "".join(source.choices(string.printable, k=12))
        return {name: value}

    return query


def entries(kind):
    """How many catalog cache entries of this kind Redis holds."""
    return len(cache.keys(f"catalog:{kind}:*"))


# --- The API ----------------------------------------------------------------------


def test_a_thousand_made_up_query_parameters_add_one_product_list_entry(
    api_client, store, made_up
):
    statuses = {api_client.get(PRODUCTS, made_up()).status_code for _ in range(1000)}

    assert statuses == {200}
    assert entries("api:products") == 1


def test_made_up_parameters_add_one_entry_to_a_product_and_to_the_categories(
    api_client, store, made_up
):
    for _ in range(100):
        api_client.get(f"{PRODUCTS}kettle/", made_up())
        api_client.get(CATEGORIES, made_up())
        api_client.get(f"{CATEGORIES}tea/", made_up())

    assert (entries("api:product"), entries("api:categories")) == (1, 1)
    assert entries("api:category") == 1


def test_one_client_s_made_up_parameters_never_reach_another_client_s_answer(
    api_client, store
):
    # Two pages, so that the answer links to the next one.
    first = api_client.get(PRODUCTS, {"page_size": "1", "utm_term": "alice-secret"})
    second = api_client.get(PRODUCTS, {"page_size": "1"})

    assert second.content == first.content
    assert (
        first.json()["next"] == "http://testserver/api/v1/products/?page=2&page_size=1"
    )
    assert entries("api:products") == 1


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("in_stock", "maybe"),
        ("min_price", "abc"),
        ("ordering", "stock"),
        ("category", "nowhere"),
        ("search", "x" * 101),
        ("page", "0"),
        ("page", "01x"),
        ("page_size", "-5"),
    ],
)
def test_a_malformed_known_parameter_is_400_naming_it_and_stores_nothing(
    api_client, store, parameter, value
):
    answers = [api_client.get(PRODUCTS, {parameter: value}) for _ in range(2)]

    for answer in answers:
        body = assert_problem(answer, 400, "validation_error")
        assert list(body["errors"]) == [parameter]
    assert entries("api:products") == 0


def test_page_numbers_past_the_end_are_404_and_store_nothing(api_client, store):
    statuses = {
        api_client.get(PRODUCTS, {"page": number}).status_code
        for number in range(2, 102)
    }

    assert statuses == {404}
    assert entries("api:products") == 0


def test_a_page_size_above_the_maximum_shares_the_maximum_s_entry(api_client, store):
    answers = [
        api_client.get(PRODUCTS, {"page_size": size})
        for size in ("100", "101", "5000", "0100", "99999999999999999999")
    ]

    assert {answer.content for answer in answers} == {answers[0].content}
    assert entries("api:products") == 1


# --- The catalog pages ---------------------------------------------------------


def test_made_up_queries_on_the_catalog_pages_share_each_page_s_entry(
    client, store, made_up
):
    for number in range(50):
        client.get("/", made_up())
        client.get("/", {"page": number, "search": f"word {number}"})
        client.get("/products/kettle/", {"page": number, "ordering": "-price"})
        client.get("/products/", made_up())

    assert entries("pages:html") == 3  # the home page, a product, the list


@pytest.mark.parametrize("parameter", ["in_stock", "ordering", "category"])
def test_a_malformed_filter_on_the_product_list_page_stores_no_page(
    client, store, parameter
):
    pages = [
        client.get("/products/", {parameter: f"made-up-{number}"})
        for number in range(50)
    ]

    assert {page.status_code for page in pages} == {200}
    assert (entries("pages:html"), entries("pages:products")) == (0, 0)


def test_page_numbers_past_the_end_of_the_product_list_page_store_no_page(
    client, store
):
    pages = [client.get("/products/", {"page": number}) for number in range(2, 52)]

    assert {page.status_code for page in pages} == {200}
    assert (entries("pages:html"), entries("pages:products")) == (0, 0)


def test_a_page_number_written_differently_shares_the_page_s_entry(client, store):
    for number in ("", "1", "01", "0001", "abc", "-3", "0"):
        client.get("/products/", {"page": number})

    assert (entries("pages:html"), entries("pages:products")) == (1, 1)
