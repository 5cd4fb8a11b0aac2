"""The product search: full text ranked by field, its syntax, typos, its language.

Through the API as clients meet it; the vectors are the database's own
(migration 0009's triggers), so every product here is made or changed the
ordinary way and the search sees it at once.
"""

import importlib
import random
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from catalog import search, services
from catalog.filters import ProductFilter
from catalog.models import Product, SearchWord
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    TeeFactory,
    variant_row,
)
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def make(sku, name, *, description="Plain.", days_old=0, **fields):
    product = ProductFactory(sku=sku, name=name, description=description, **fields)
    # Fixed creation times: the newest-first order must not explain a result.
    created = timezone.now() - timedelta(days=days_old)
    Product.objects.filter(pk=product.pk).update(created_at=created)
    return product


def found(api_client, text, **params):
    response = api_client.get(PRODUCTS, {"search": text, **params})
    assert response.status_code == 200, response.content
    return [product["sku"] for product in response.json()["results"]]


# --- Ranking ------------------------------------------------------------------


def test_an_exact_name_match_outranks_a_description_match(api_client):
    # The description's product is newer and says "teapot" three times.
    make("NAME", "Teapot", days_old=2)
    make("DESC", "Kettle", description="Teapot, teapot and teapot.", days_old=0)

    assert found(api_client, "teapot") == ["NAME", "DESC"]


def test_the_category_and_search_terms_rank_between_name_and_description(
    api_client,
):
    teapots = CategoryFactory(name="Teapots")
    make("DESC", "Kettle", description="Not a teapot.", days_old=0)
    make("CATEGORY", "Brown Betty", category=teapots, days_old=1)
    terms = make("TERMS", "Brewer", days_old=2)
    Product.objects.filter(pk=terms.pk).update(search_terms="TEAPOT-XL teapot")
    make("NAME", "Teapot", days_old=3)

    result = found(api_client, "teapot")

    assert result[0] == "NAME"
    assert set(result[1:3]) == {"CATEGORY", "TERMS"}
    assert result[3] == "DESC"


def test_the_sku_is_searched_as_the_name_is(api_client):
    make("TP-2044", "Teapot")
    make("TP-2045", "Teapot")

    assert found(api_client, "tp-2044") == ["TP-2044"]


def test_relevance_may_be_asked_for_and_another_order_replaces_it(api_client):
    make("NAME", "Teapot", price=Decimal("30.00"), days_old=2)
    make("DESC", "Kettle", description="Teapot.", price=Decimal("20.00"), days_old=0)

    assert found(api_client, "teapot", ordering="relevance") == ["NAME", "DESC"]
    assert found(api_client, "teapot", ordering="price") == ["DESC", "NAME"]


def test_relevance_without_a_search_is_400_naming_ordering(api_client):
    response = api_client.get(PRODUCTS, {"ordering": "relevance"})

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["ordering"]


def test_without_a_search_the_answer_has_no_search_object(api_client):
    make("MUG", "Mug")

    assert "search" not in api_client.get(PRODUCTS).json()


# --- Pages of a ranked search -------------------------------------------------


@pytest.fixture
def teapots():
    """Products holding "teapot" in their name, category or description, mixed.

    Some name holders say it in their description too, so that they rank
    above the others; the days make the newest-first order no help.
    """
    chance = random.Random(5)
    places = ["name"] * 7 + ["category"] * 3 + ["description"] * 6
    chance.shuffle(places)
    teapots = CategoryFactory(name="Teapots")
    for number, place in enumerate(places):
        make(
            f"TP-{number:02d}",
            "Teapot" if place == "name" else f"Vessel {number}",
            description={
                "name": chance.choice(["Plain.", "A teapot, a teapot."]),
                "category": "Plain.",
                "description": "A teapot, a teapot.",
            }[place],
            days_old=chance.randrange(30),
            **({"category": teapots} if place == "category" else {}),
        )


def ranked(text):
    """Every active match in the ranking's order, ranked as one statement."""
    products = search.matching(Product.objects.active(), text)
    return list(products.values_list("sku", flat=True))


@pytest.mark.parametrize("page_size", [1, 3, 7, 16])
def test_the_pages_of_a_one_word_search_follow_the_ranking(
    api_client, teapots, page_size
):
    # The pages inside the name holders rank only them, the others every
    # match: together they must read as the one ranking.
    pages = [
        found(api_client, "teapot", page_size=page_size, page=number)
        for number in range(1, -(-16 // page_size) + 1)
    ]

    assert [sku for page in pages for sku in page] == ranked("teapot")


def test_a_one_word_search_ordered_otherwise_is_not_cut_to_the_names(
    api_client, teapots
):
    # "Vessel …" sorts after "Teapot": the first page holds no name holder.
    expected = search.matching(Product.objects.active(), "teapot").order_by(
        "-name", "-id"
    )

    skus = found(api_client, "teapot", ordering="-name", page_size=3)

    assert skus == list(expected.values_list("sku", flat=True)[:3])
    assert not any(sku in skus for sku in ranked("teapot")[:7])


def test_a_product_that_stops_matching_between_ids_and_rows_is_left_out(teapots, staff):
    ranked_products = search.RankedProducts(
        ProductFilter({"search": "teapot"}, queryset=Product.objects.active()).qs,
        "teapot",
        by_relevance=True,
    )
    ids = ranked_products.page_ids(slice(0, 3))
    services.set_products_active(
        products=Product.objects.filter(pk=ids[1]), is_active=False
    )

    rows = ranked_products.rows_of(ids)

    assert [row.pk for row in rows] == [ids[0], ids[2]]


def test_name_matches_first_are_the_name_and_sku_holders_of_one_word(teapots):
    make("SAMOVAR7", "Urn", description="Teapot.")
    ids = Product.objects.values_list("pk", flat=True)

    def holders(text):
        matches = search.name_matches_first(ids, search.search_query(text))
        return set(
            Product.objects.filter(pk__in=matches).values_list("name", flat=True)
        )

    assert holders("teapots") == {"Teapot"}
    assert holders("samovar7") == {"Urn"}
    # Of more words than one, or of an exclusion, none: the order of their
    # ranking is not known from the names alone.
    assert holders("teapot vessel") == set()
    assert holders("-vessel") == set()


# --- Syntax -------------------------------------------------------------------


def test_words_are_stemmed(api_client):
    make("MUG-1", "Stoneware mug")
    make("SHOE-1", "Running shoes")

    assert found(api_client, "mugs") == ["MUG-1"]
    assert found(api_client, "run shoe") == ["SHOE-1"]


def test_a_quoted_phrase_needs_its_words_together_in_order(api_client):
    make("PHRASE", "Blue mug", days_old=1)
    make("APART", "Mug with a blue glaze", days_old=0)

    assert found(api_client, "blue mug") == ["PHRASE", "APART"]
    assert found(api_client, '"blue mug"') == ["PHRASE"]


def test_a_minus_excludes_a_word(api_client):
    make("BLUE", "Blue mug")
    make("RED", "Red mug")

    assert found(api_client, "mug -blue") == ["RED"]


def test_or_finds_either_word(api_client):
    make("POT", "Teapot", days_old=1)
    make("KETTLE", "Kettle", days_old=0)
    make("MUG", "Mug")

    assert sorted(found(api_client, "teapot or kettle")) == ["KETTLE", "POT"]
    assert found(api_client, "teapot kettle") == []


def test_a_word_inside_another_is_no_match(api_client):
    # The search matches words, not fragments: the substring search did.
    make("COTTON", "Cotton towel")

    assert found(api_client, "otto", in_stock="true") == []


def test_stop_words_alone_find_nothing(api_client):
    make("THE", "The mug")

    response = api_client.get(PRODUCTS, {"search": "the"})

    assert response.json()["count"] == 0
    assert response.json()["search"] == {"query": "the", "corrected": None}


# --- What the database keeps current -------------------------------------------


def test_a_renamed_category_is_found_by_its_new_name(
    api_client, django_capture_on_commit_callbacks
):
    kitchen = CategoryFactory(name="Kitchen")
    make("POT", "Teapot", category=kitchen)

    kitchen.name = "Cookware"
    with django_capture_on_commit_callbacks(execute=True):
        kitchen.save()

    assert found(api_client, "cookware") == ["POT"]
    assert found(api_client, "kitchen") == []


def test_an_edited_description_is_found(api_client, staff):
    product = make("POT", "Teapot", description="Cast iron.")

    services.update_product(product=product, user=staff, description="Porcelain.")

    assert found(api_client, "porcelain") == ["POT"]
    assert found(api_client, "iron") == []


def test_an_import_is_found_by_what_it_wrote(api_client, tmp_path):
    kitchen = CategoryFactory(name="Kitchen")
    make("POT-1", "Teapot", category=kitchen)
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,name,price,category,description\n"
        "POT-1,Kettle,10.00,kitchen,Whistles.\n"
        "CUP-1,Teacup,4.00,kitchen,Bone china.\n"
    )

    # Bulk statements that pass the models by: the triggers still see them.
    call_command("import_products", str(path), stdout=StringIO())

    assert found(api_client, "kettle whistles") == ["POT-1"]
    assert found(api_client, "teacup china") == ["CUP-1"]
    assert found(api_client, "teapot") == []
    assert SearchWord.objects.filter(word__in=["kettle", "teacup"]).count() == 2


def test_the_vector_cannot_be_written_by_hand():
    product = make("POT", "Teapot")

    Product.objects.filter(pk=product.pk).update(search_vector=None)

    assert Product.objects.filter(search_vector=search.search_query("teapot"))


def test_the_fill_migration_indexes_the_products_that_existed_before_it(api_client):
    fill = importlib.import_module("catalog.migrations.0013_search_fill_vectors")
    table = Product._meta.db_table
    with connection.cursor() as cursor:
        # The products as migration 0009 found them: no vector, no vocabulary
        # (undone when the test's transaction rolls back).
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        make("POT-1", "Teapot", description="Cast iron.")
        # The deferred foreign key checks first: ALTER TABLE waits for none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        assert Product._base_manager.get().search_vector is None
        assert not SearchWord.objects.exists()

        cursor.execute(fill.FILL)

    assert found(api_client, "teapot iron") == ["POT-1"]
    assert list(SearchWord.objects.values_list("word", flat=True)) == ["teapot"]


def test_new_and_renamed_products_add_their_name_words_to_the_vocabulary(staff):
    product = make("POT", "Blue Teapot 2 X200 2044")

    services.update_product(product=product, user=staff, name="Green Kettle")

    # Words of three characters or more with a letter, lower-cased, unstemmed.
    assert set(SearchWord.objects.values_list("word", flat=True)) == {
        "blue",
        "teapot",
        "x200",
        "green",
        "kettle",
    }


# --- Typos --------------------------------------------------------------------


def test_a_mistyped_word_is_answered_by_the_closest_name_word(api_client):
    make("MUGS", "Stoneware mugs")
    make("PLATE", "Plate")

    response = api_client.get(PRODUCTS, {"search": "muggs"})

    assert response.status_code == 200
    body = response.json()
    assert [product["sku"] for product in body["results"]] == ["MUGS"]
    assert body["search"] == {"query": "muggs", "corrected": "mugs"}


def test_a_search_that_finds_products_is_not_corrected(api_client):
    make("MUG", "Mug")

    response = api_client.get(PRODUCTS, {"search": "mug"})

    assert response.json()["search"] == {"query": "mug", "corrected": None}


def test_only_the_words_that_find_nothing_are_corrected(api_client):
    make("BLUE", "Blue teapot", days_old=1)
    make("RED", "Red teapot", days_old=0)

    response = api_client.get(PRODUCTS, {"search": '"blue tepot" -red'})

    assert response.json()["search"] == {
        "query": '"blue tepot" -red',
        "corrected": '"blue teapot" -red',
    }
    assert [product["sku"] for product in response.json()["results"]] == ["BLUE"]


def test_nothing_close_enough_answers_nothing(api_client):
    make("MUG", "Mug")

    response = api_client.get(PRODUCTS, {"search": "xylophone"})

    assert response.json()["count"] == 0
    assert response.json()["search"] == {"query": "xylophone", "corrected": None}


def test_a_model_number_is_not_corrected_to_another(api_client):
    make("PHONE", "Phone 2044")

    response = api_client.get(PRODUCTS, {"search": "phone 2045"})

    assert response.json()["count"] == 0
    assert response.json()["search"]["corrected"] is None


def test_inactive_products_lend_no_correction(api_client):
    make("POT", "Teapot", is_active=False)

    response = api_client.get(PRODUCTS, {"search": "teapott"})

    assert response.json()["count"] == 0
    assert response.json()["search"]["corrected"] is None


def test_a_word_left_only_in_descriptions_lends_no_correction(api_client, staff):
    pot = make("POT", "Teapot")
    make("KETTLE", "Kettle", description="Boils water for the teapot.")
    # The vocabulary keeps "teapot"; no name holds it any more.
    services.update_product(product=pot, user=staff, name="Samovar")

    response = api_client.get(PRODUCTS, {"search": "teapott"})

    assert response.json()["count"] == 0
    assert response.json()["search"]["corrected"] is None


def test_the_correction_keeps_the_other_filters(api_client):
    kitchen = CategoryFactory(name="Kitchen")
    make("KITCHEN", "Teapot", category=kitchen)
    make("ELSEWHERE", "Teapot")

    assert found(api_client, "teapott", category="kitchen") == ["KITCHEN"]


def test_finds_any_asks_for_active_products_through_the_index():
    make("OFF", "Samovar", is_active=False)
    make("ON", "Teapot")

    assert search.finds_any(search.search_query("teapot"))
    assert not search.finds_any(search.search_query("samovar"))
    assert not search.finds_any(search.search_query("teapto"))


# --- The language -------------------------------------------------------------


def test_the_query_uses_the_search_config(
    api_client, settings, django_capture_on_commit_callbacks
):
    make("SHOE-1", "Running shoes")
    assert found(api_client, "run") == ["SHOE-1"]

    settings.SEARCH_CONFIG = "simple"
    with django_capture_on_commit_callbacks(execute=True):
        search.rebuild_search_index()

    # Unstemmed now, on both sides: "run" is only a typo's neighbour.
    assert found(api_client, "running") == ["SHOE-1"]
    response = api_client.get(PRODUCTS, {"search": "run"})
    assert response.json()["search"] == {"query": "run", "corrected": "running"}


def test_a_changed_search_config_warns_until_the_index_is_rebuilt(settings):
    assert search.trigger_config() == "english"
    settings.SEARCH_CONFIG = "simple"

    before = run_checks(databases=["default"])
    out = StringIO()
    call_command("rebuild_search_index", stdout=out)
    after = run_checks(databases=["default"])

    assert [message.id for message in before if message.id == "catalog.W001"] == [
        "catalog.W001"
    ]
    assert "catalog.W001" not in [message.id for message in after]
    assert search.trigger_config() == "simple"
    assert "in 'simple'" in out.getvalue()


def test_an_unknown_search_config_is_an_error_of_the_check(settings):
    settings.SEARCH_CONFIG = "klingon"

    messages = run_checks(databases=["default"])

    assert [message.id for message in messages if message.id.startswith("catalog")] == [
        "catalog.E001"
    ]
    # The check's failed cast left the transaction usable.
    assert search.trigger_config() == "english"


def test_the_search_check_reads_the_database_only_when_asked_to(settings):
    settings.SEARCH_CONFIG = "simple"

    # As `check --deploy` runs: without a database.
    messages = run_checks(include_deployment_checks=True)

    assert "catalog.W001" not in [message.id for message in messages]


@pytest.fixture
def charcoal_and_sand_tee():
    """A tee sold in two colours, each variant with a SKU of its own."""
    return TeeFactory(
        name="Plain tee",
        option_types={"Colour": ["Charcoal", "Sand"]},
        variants=[variant_row("Charcoal", price="9"), variant_row("Sand", price="9")],
    )


def test_a_variants_sku_and_option_values_find_its_product(
    api_client, charcoal_and_sand_tee
):
    tee = charcoal_and_sand_tee

    for words in ("charcoal", "TEE-SAND"):
        found = api_client.get("/api/v1/products/", {"search": words}).json()
        assert [item["slug"] for item in found["results"]] == [tee.slug], words


def test_a_deactivated_variants_words_no_longer_find_its_product(
    api_client, charcoal_and_sand_tee
):
    tee = charcoal_and_sand_tee
    services.update_variant(
        variant=tee.variants.get(sku="TEE-CHARCOAL"), is_active=False
    )

    found = api_client.get("/api/v1/products/", {"search": "charcoal"}).json()
    assert found["results"] == []
