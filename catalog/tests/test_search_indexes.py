"""The product search's trigram indexes (migration 0003): present, used, exact.

The tests leave the planner only the trigram indexes (no sequential or
plain index scans, no is_active btree), so that a search is answered through
them even on a table of a few rows: the plan then shows that each index
is on the very expression Django writes for `icontains`, and the results
show that answering through them matches exactly what the scan did.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.filters import ProductFilter
from catalog.models import Product
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS_API = "/api/v1/products/"
PRODUCTS_PAGE = "/products/"
TRIGRAM_INDEXES = {
    "catalog_product_name_trgm_idx": "gin (upper((name)::text) gin_trgm_ops)",
    "catalog_product_description_trgm_idx": "gin (upper(description) gin_trgm_ops)",
    "catalog_product_sku_trgm_idx": "gin (upper((sku)::text) gin_trgm_ops)",
}


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("The trigram indexes exist on PostgreSQL only.")


@pytest.fixture
def trigram_indexes_only():
    """Leave the planner no way to find rows but the trigram indexes.

    On a table of a few rows a scan is cheaper, and so is the is_active
    btree, so both are taken away for the test: sequential and plain index
    scans are switched off, and the btree indexes on is_active are dropped.
    All of it is undone when the test's transaction rolls back; the test
    client's requests run on this same connection.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            "DROP INDEX catalog_product_newest_idx, catalog_product_price_idx, "
            "catalog_product_name_idx, catalog_product_cat_price_idx"
        )


@pytest.fixture
def products():
    made = [
        ("MUG-1", "Blue Mug", "Stoneware"),
        ("CUP-1", "Tea cup", "A blue glaze"),
        ("BLU-9", "Plate", "Plain"),
        ("POT-1", "Pot", "Cast iron"),
        ("ÉTÉ-1", "Été mug", "Summer"),
    ]
    for days_old, (sku, name, description) in enumerate(made, start=1):
        product = ProductFactory(sku=sku, name=name, description=description)
        # Fixed creation times, so that the newest-first order is certain.
        Product.objects.filter(pk=product.pk).update(
            created_at=timezone.now() - timedelta(days=days_old)
        )


def skus(response):
    assert response.status_code == 200, response.content
    return [product["sku"] for product in response.json()["results"]]


def test_migrate_creates_a_trigram_index_on_each_searched_expression():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'catalog_product' AND indexname LIKE %s",
            ["%\\_trgm\\_idx"],
        )
        found = dict(cursor.fetchall())

    assert {
        name: definition.partition(" USING ")[2] for name, definition in found.items()
    } == (TRIGRAM_INDEXES)


def test_the_search_sql_is_answered_by_the_three_trigram_indexes(
    products, trigram_indexes_only
):
    queryset = ProductFilter(
        {"search": "blue mug"}, queryset=Product.objects.active()
    ).qs

    plan = queryset.explain()

    for name in TRIGRAM_INDEXES:
        assert f"Bitmap Index Scan on {name}" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_an_api_search_through_the_indexes_matches_as_the_scan_did(
    api_client, products, trigram_indexes_only
):
    assert skus(api_client.get(PRODUCTS_API, {"search": "BLU"})) == [
        "MUG-1",
        "CUP-1",
        "BLU-9",
    ]
    assert skus(api_client.get(PRODUCTS_API, {"search": "stoneWARE"})) == ["MUG-1"]
    assert skus(api_client.get(PRODUCTS_API, {"search": "pot-1"})) == ["POT-1"]
    assert skus(api_client.get(PRODUCTS_API, {"search": "mug blue"})) == ["MUG-1"]
    assert skus(api_client.get(PRODUCTS_API, {"search": "été"})) == ["ÉTÉ-1"]
    # Words shorter than a trigram still match (the index yields every row
    # as a candidate and the LIKE decides).
    assert skus(api_client.get(PRODUCTS_API, {"search": "b"})) == [
        "MUG-1",
        "CUP-1",
        "BLU-9",
    ]
    response = api_client.get(PRODUCTS_API, {"search": "mug"})
    assert response.json()["count"] == 2


def test_the_catalog_page_search_through_the_indexes_counts_the_matches(
    client, products, trigram_indexes_only
):
    response = client.get(PRODUCTS_PAGE, {"search": "BLUE"})

    assert response.status_code == 200
    assert "2 products matching “BLUE”" in response.content.decode()
