"""The product list's filters: the cached category tree, the search's edges.

The category filter finds a slug's subtree in a map cached under the catalog
version (catalog.filters.category_subtrees), so a filtered list reads no
category row until the catalog changes.
"""

import pytest

from catalog import services
from catalog.filters import ProductFilter, category_subtrees
from catalog.models import Category, Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def skus(response):
    assert response.status_code == 200, response.content
    return sorted(product["sku"] for product in response.json()["results"])


# --- The category filter ------------------------------------------------------


def test_subtree_ids_by_slug_maps_every_category_to_its_subtree():
    kitchen = CategoryFactory(name="Kitchen")
    mugs = CategoryFactory(name="Mugs", parent=kitchen)
    tea_mugs = CategoryFactory(name="Tea Mugs", parent=mugs)
    garden = CategoryFactory(name="Garden")

    assert Category.objects.subtree_ids_by_slug() == {
        "kitchen": {kitchen.pk, mugs.pk, tea_mugs.pk},
        "mugs": {mugs.pk, tea_mugs.pk},
        "tea-mugs": {tea_mugs.pk},
        "garden": {garden.pk},
    }


def test_filtered_lists_read_the_categories_once_per_catalog_version(
    api_client, django_assert_num_queries
):
    kitchen = CategoryFactory(name="Kitchen")
    garden = CategoryFactory(name="Garden")
    ProductFactory(sku="POT", category=kitchen)
    ProductFactory(sku="SPADE", category=garden)

    # Every category's subtree, whether a sale started or ended since the
    # prices were written, the count, the page, its pictures, its variants
    # and option types.
    with django_assert_num_queries(7):
        first = api_client.get(PRODUCTS, {"category": "kitchen"})
    # Another filter, so not the cached page, and no category read.
    # (+2: the page's variants and their option types, prefetched)
    with django_assert_num_queries(6):
        second = api_client.get(PRODUCTS, {"category": "garden"})

    assert skus(first) == ["POT"]
    assert skus(second) == ["SPADE"]


def test_a_category_made_after_the_tree_was_cached_filters_at_once(
    api_client, django_capture_on_commit_callbacks
):
    kitchen = CategoryFactory(name="Kitchen")
    ProductFactory(sku="POT", category=kitchen)
    assert skus(api_client.get(PRODUCTS, {"category": "kitchen"})) == ["POT"]

    with django_capture_on_commit_callbacks(execute=True):
        mugs = CategoryFactory(name="Mugs", parent=kitchen)
    with django_capture_on_commit_callbacks(execute=True):
        ProductFactory(sku="MUG", category=mugs)

    assert skus(api_client.get(PRODUCTS, {"category": "mugs"})) == ["MUG"]
    assert skus(api_client.get(PRODUCTS, {"category": "kitchen"})) == ["MUG", "POT"]


def test_a_category_moved_under_another_after_caching_counts_there_at_once(
    api_client, django_capture_on_commit_callbacks
):
    kitchen = CategoryFactory(name="Kitchen")
    garden = CategoryFactory(name="Garden")
    pots = CategoryFactory(name="Pots", parent=garden)
    ProductFactory(sku="POT", category=pots)
    assert skus(api_client.get(PRODUCTS, {"category": "kitchen"})) == []

    pots.parent = kitchen
    with django_capture_on_commit_callbacks(execute=True):
        pots.save()

    assert skus(api_client.get(PRODUCTS, {"category": "kitchen"})) == ["POT"]
    assert skus(api_client.get(PRODUCTS, {"category": "garden"})) == []


def test_a_deleted_category_is_unknown_at_once(
    api_client, django_capture_on_commit_callbacks
):
    CategoryFactory(name="Kitchen")
    category_subtrees()

    with django_capture_on_commit_callbacks(execute=True):
        Category.objects.get(slug="kitchen").delete()

    response = api_client.get(PRODUCTS, {"category": "kitchen"})
    body = assert_problem(response, 400, "validation_error")
    assert body["errors"]["category"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


@pytest.mark.parametrize("slug", ["no-such", "kitchen\x00", "KITCHEN", "%"])
def test_a_slug_that_names_no_category_is_400(api_client, slug):
    CategoryFactory(name="Kitchen")

    response = api_client.get(PRODUCTS, {"category": slug})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["category"]


def test_the_filters_form_is_built_once_and_each_request_has_its_own():
    bad = ProductFilter({"min_price": "abc"}, queryset=Product.objects.all())
    good = ProductFilter({"min_price": "5"}, queryset=Product.objects.all())

    assert type(bad.form) is type(good.form)
    assert list(bad.errors) == ["min_price"]
    assert good.is_valid()
    assert bad.form.fields["min_price"] is not good.form.fields["min_price"]


# --- The search ---------------------------------------------------------------


def test_search_finds_a_product_by_its_new_name_after_an_edit(api_client, staff):
    product = ProductFactory(sku="P-1", name="Teapot")

    services.update_product(product=product, user=staff, name="Kettle")

    assert skus(api_client.get(PRODUCTS, {"search": "kettle"})) == ["P-1"]
    assert skus(api_client.get(PRODUCTS, {"search": "teapot"})) == []


def test_a_search_word_never_spans_two_fields(api_client):
    ProductFactory(sku="POT-1", name="Tea", description="pot for two")

    joined = api_client.get(PRODUCTS, {"search": "teapot"})

    # Found only as the closest name word, not as the two fields joined.
    assert joined.json()["search"] == {"query": "teapot", "corrected": "tea"}
    assert skus(api_client.get(PRODUCTS, {"search": "tea pot"})) == ["POT-1"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("50%", ["HALF"]),
        ("a_b", ["SNAKE"]),
        # No word at all: nothing to find, rather than everything.
        ("%", []),
        ("_", []),
        ("\\", []),
    ],
)
def test_search_takes_like_wildcards_and_backslashes_literally(
    api_client, words, expected
):
    ProductFactory(sku="HALF", name="Mug 50% off")
    ProductFactory(sku="SNAKE", name="Mug a_b")
    ProductFactory(sku="SLASH", name="Mug back\\slash")
    # What each pattern would match if it were taken as a wildcard.
    ProductFactory(sku="PLAIN", name="Mug 500 axb")

    assert skus(api_client.get(PRODUCTS, {"search": words})) == expected
