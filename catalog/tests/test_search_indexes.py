"""The product search's indexes (migrations 0003 and 0009): present and used.

The tests leave the planner no sequential scan, so that even a table of a
few rows is searched through an index: the plan then shows that the index
is on the very expression the search's SQL uses.
"""

import pytest
from django.db import connection

from catalog import search
from catalog.filters import ProductFilter
from catalog.models import Product, SearchWord
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCT_INDEXES = {
    "catalog_product_search_idx": "gin (search_vector)",
    # The name and SKU part of the vector (weight A): a one-word search's
    # first pages rank only the products that hold the word there.
    "catalog_product_name_tsv_idx": "gin (ts_filter(search_vector, '{a}'::\"char\"[]))",
    # The admin's search filters the name and the SKU with icontains.
    "catalog_product_name_trgm_idx": "gin (upper((name)::text) gin_trgm_ops)",
    "catalog_product_sku_trgm_idx": "gin (upper((sku)::text) gin_trgm_ops)",
}


@pytest.fixture
def search_indexes_only():
    """Leave the planner no way to find rows but the search's indexes.

    On a table of a few rows a scan is cheaper, and so is a whole btree
    index, so both are taken away for the test: sequential and plain index
    scans are switched off, and the plain btree indexes (which a bitmap scan
    could read whole) are dropped. All of it is undone when the test's transaction
    rolls back.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "JOIN pg_class ON pg_class.oid = indexrelid "
            "JOIN pg_am ON pg_am.oid = pg_class.relam "
            "WHERE indrelid IN (%s::regclass, %s::regclass) "
            "AND amname = 'btree' AND NOT indisunique",
            [Product._meta.db_table, SearchWord._meta.db_table],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
        # Row counts for the planner, as autovacuum would give them.
        cursor.execute(f"ANALYZE {Product._meta.db_table}, {SearchWord._meta.db_table}")


@pytest.fixture
def products():
    for sku, name, description in [
        ("MUG-1", "Blue Mug", "Stoneware"),
        ("CUP-1", "Tea cup", "A blue glaze"),
        ("POT-1", "Pot", "Cast iron"),
    ]:
        ProductFactory(sku=sku, name=name, description=description)


@pytest.fixture
def vocabulary():
    # Enough words that reading them all costs more than the index.
    SearchWord.objects.bulk_create(
        SearchWord(word=f"{letter}{number:04d}")
        for letter in "xyz"
        for number in range(1000)
    )


def index_definitions(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = %s AND indexdef LIKE %s",
            [table, "% USING gi%"],
        )
        return {
            name: definition.partition(" USING ")[2]
            for name, definition in cursor.fetchall()
        }


def test_migrate_creates_the_search_indexes():
    assert index_definitions(Product._meta.db_table) == PRODUCT_INDEXES
    assert index_definitions(SearchWord._meta.db_table) == {
        "catalog_searchword_trgm_idx": "gist (word gist_trgm_ops)"
    }


def test_the_search_sql_is_answered_by_the_vector_index(products, search_indexes_only):
    queryset = ProductFilter(
        {"search": "blue mug"}, queryset=Product.objects.active()
    ).qs

    plan = queryset.explain()

    assert "Bitmap Index Scan on catalog_product_search_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_name_holders_are_found_by_the_name_vector_index(
    products, search_indexes_only
):
    holders = search.name_matches_first(
        Product.objects.values_list("pk", flat=True), search.search_query("mug")
    )

    plan = holders.explain()

    assert "Bitmap Index Scan on catalog_product_name_tsv_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_typo_lookup_is_answered_by_the_trigram_index(
    products, vocabulary, search_indexes_only
):
    assert search.corrected_text("mugg") == "mug"
    plan = search.name_words_like("mugg").explain()

    assert "on catalog_searchword_trgm_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
