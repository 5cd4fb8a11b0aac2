"""The product facets: counts proved against a brute-force count, errors, cache.

The random catalogs are built from a fixed seed, each once for the class of
tests that read it; the expected counts are worked out in Python from the
rows alone, as the contract states them, never through the code under test.
"""

import random
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from catalog import services
from catalog.facets import product_facets
from catalog.models import Category, Product
from catalog.services import adjust_stock
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SizedProductFactory,
    TeeFactory,
    variant_of,
    variant_row,
)
from core.testing import assert_problem, rows_kept_for_a_class

pytestmark = pytest.mark.django_db

FACETS = "/api/v1/products/facets/"
PRODUCTS = "/api/v1/products/"
# CATALOG_PRICE_BANDS' defaults, as the contract's reading documents them.
BANDS = [
    (Decimal("0.00"), Decimal("10.00")),
    (Decimal("10.00"), Decimal("25.00")),
    (Decimal("25.00"), Decimal("50.00")),
    (Decimal("50.00"), Decimal("100.00")),
    (Decimal("100.00"), Decimal("250.00")),
    (Decimal("250.00"), None),
]
# Prices on and beside every band's edges.
PRICES = ["0.01", "9.99", "10.00", "24.99", "25.00", "49.99", "75.00", "250.00", "999"]
# Name words that no category name, SKU or description holds, and that stem
# to themselves: a product matches a one-word search when its name has it.
WORDS = ["teapot", "kettle", "blue", "green", "ceramic"]


@pytest.fixture(scope="class")
def catalog(django_db_setup, django_db_blocker):
    """About 60 products over a three-level category tree, chosen at random.

    Made once for a class of tests, which only read it.
    """
    with rows_kept_for_a_class(django_db_blocker):
        make_catalog()
        yield


def make_catalog():
    chance = random.Random(17)
    roots = [CategoryFactory(name=f"Shelf {letter}") for letter in "AB"]
    children = [
        CategoryFactory(name=f"Aisle {number}", parent=chance.choice(roots))
        for number in range(3)
    ]
    leaves = [
        CategoryFactory(name=f"Bay {number}", parent=chance.choice(children))
        for number in range(3)
    ]
    categories = roots + children + leaves
    for number in range(60):
        ProductFactory(
            sku=f"P-{number:03d}",
            name=" ".join(chance.sample(WORDS, 2)),
            description="Plain.",
            price=Decimal(chance.choice(PRICES)),
            stock=chance.choice([0, 0, 1, 7]),
            is_active=chance.random() < 0.85,
            category=chance.choice(categories),
        )


def subtrees():
    parent_of = dict(Category.objects.values_list("pk", "parent_id"))

    def ancestors_and_self(pk):
        while pk is not None:
            yield pk
            pk = parent_of[pk]

    tree = {pk: set() for pk in parent_of}
    for pk in parent_of:
        for above in ancestors_and_self(pk):
            tree[above].add(pk)
    return {slug: tree[pk] for pk, slug in Category.objects.values_list("pk", "slug")}


def brute_force(params):
    """The facets as the contract defines them, counted row by row in Python."""
    trees = subtrees()
    products = list(Product.objects.all())

    def matches(product, leaving_out=()):
        given = {
            name: value for name, value in params.items() if name not in leaving_out
        }
        return (
            product.is_active
            and (
                "category" not in given
                or product.category_id in trees[given["category"]]
            )
            and (
                "min_price" not in given or product.price >= Decimal(given["min_price"])
            )
            and (
                "max_price" not in given or product.price <= Decimal(given["max_price"])
            )
            and (
                "in_stock" not in given
                or (product.stock > 0) == (given["in_stock"] == "true")
            )
            and ("search" not in given or given["search"] in product.name.split())
        )

    def count(condition, leaving_out=()):
        return sum(
            1
            for product in products
            if matches(product, leaving_out) and condition(product)
        )

    return {
        "count": count(lambda product: True),
        "categories": [
            {
                "slug": category.slug,
                "name": category.name,
                "count": count(
                    lambda product, category=category: (
                        product.category_id in trees[category.slug]
                    ),
                    {"category"},
                ),
            }
            for category in Category.objects.all()
        ],
        "options": {},
        "price_ranges": [
            {
                "min": str(low),
                "max": None if high is None else str(high),
                "count": count(
                    lambda product, low=low, high=high: (
                        product.price >= low and (high is None or product.price < high)
                    ),
                    {"min_price", "max_price"},
                ),
            }
            for low, high in BANDS
        ],
        "in_stock": {
            "true": count(lambda product: product.stock > 0, {"in_stock"}),
            "false": count(lambda product: product.stock == 0, {"in_stock"}),
        },
    }


def all_counts_are_integers(answer):
    """Whether every count of a facets answer is a JSON integer (not 3.0)."""
    if isinstance(answer, dict):
        return all(
            isinstance(value, int) and not isinstance(value, bool)
            if name in {"count", "true", "false"}
            else all_counts_are_integers(value)
            for name, value in answer.items()
        )
    if isinstance(answer, list):
        return all(all_counts_are_integers(item) for item in answer)
    return True


@pytest.mark.usefixtures("catalog")
class TestCountsOnARandomCatalog:
    """The counts on one random catalog, which these tests share."""

    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"category": "shelf-a"},
            {"category": "aisle-1"},
            {"in_stock": "true"},
            {"in_stock": "false", "category": "shelf-b"},
            {"min_price": "10", "max_price": "49.99"},
            {"min_price": "25.00"},
            {"search": "teapot"},
            {"search": "kettle", "in_stock": "true", "max_price": "100"},
            {
                "search": "blue",
                "category": "shelf-a",
                "in_stock": "false",
                "min_price": "9.99",
                "max_price": "250",
            },
        ],
    )
    def test_facet_counts_equal_a_brute_force_count(self, api_client, params):
        expected = brute_force(params)

        response = api_client.get(FACETS, params)

        assert response.status_code == 200, response.content
        assert response.json() == expected
        assert all_counts_are_integers(response.json())
        # The list shows what the facets count.
        assert api_client.get(PRODUCTS, params).json()["count"] == expected["count"]

    def test_the_catalog_holds_every_kind_of_product(self):
        # What the brute-force test relies on: each case is present.
        products = Product.objects.all()

        assert products.filter(is_active=False).exists()
        assert products.filter(stock=0, is_active=True).exists()
        assert {str(price) for price in products.values_list("price", flat=True)} >= {
            "10.00",
            "250.00",
        }

    def test_staff_get_the_active_products_counts_too(self, api_client, staff_client):
        anonymous = api_client.get(FACETS, {"in_stock": "true"}).json()

        staff = staff_client.get(FACETS, {"in_stock": "true", "is_active": "false"})

        assert staff.status_code == 200
        assert staff.json() == anonymous

    def test_ordering_and_paging_are_not_facet_parameters(
        self, api_client, django_assert_num_queries
    ):
        plain = api_client.get(FACETS).json()

        # Left out of the cache key too: the plain answer's entry serves it.
        with django_assert_num_queries(0):
            response = api_client.get(
                FACETS, {"ordering": "bogus", "page": "9", "page_size": "x"}
            )

        assert response.status_code == 200
        assert response.json() == plain

    @pytest.mark.parametrize(
        ("params", "statements"),
        [
            # Added up from the catalog's cached counts.
            ({"in_stock": "true"}, 0),
            ({"category": "shelf-a", "in_stock": "false"}, 0),
            # The products in the price range, counted once for every facet.
            ({"category": "shelf-a", "min_price": "10", "in_stock": "false"}, 1),
            # The search's "finds anything?" check, and its matches counted
            # once, their option values in the same statement.
            ({"search": "teapot", "max_price": "100", "in_stock": "true"}, 1),
        ],
    )
    def test_the_filters_given_cost_at_most_one_count(
        self, api_client, django_assert_num_queries, params, statements
    ):
        # The categories, their subtrees and the catalog's counts, cached.
        api_client.get(FACETS, {"category": "shelf-b"})

        # And on every answer not cached yet, whether a sale started or ended,
        # and the option values' counts.
        with django_assert_num_queries(statements + 2):
            response = api_client.get(FACETS, params)

        assert response.json() == brute_force(params)


def test_a_misspelled_search_counts_what_the_list_shows(api_client):
    ProductFactory(name="Stoneware mugs", price=Decimal("12.00"))
    ProductFactory(name="Plate", price=Decimal("12.00"))

    facets = api_client.get(FACETS, {"search": "muggs"}).json()

    assert facets["count"] == 1
    assert facets["price_ranges"][1]["count"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "ten"}, "max_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"category": "no-such"}, "category"),
        ({"search": "x" * 101}, "search"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(api_client, params, field):
    response = api_client.get(FACETS, params)

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [field]


def test_facets_are_served_from_the_cache_until_the_catalog_changes(
    api_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    product = ProductFactory(price=Decimal("12.00"))
    api_client.get(FACETS)

    with django_assert_num_queries(0):
        cached = api_client.get(FACETS)
    with django_capture_on_commit_callbacks(execute=True):
        product.price = Decimal("30.00")
        product.save()
    changed = api_client.get(FACETS).json()

    assert cached.json()["price_ranges"][1]["count"] == 1
    assert changed["price_ranges"][1]["count"] == 0
    assert changed["price_ranges"][2]["count"] == 1


def test_facets_without_filters_cost_four_queries(
    api_client, django_assert_num_queries
):
    ProductFactory.create_batch(3)

    # Whether a sale started or ended since the prices were written; the
    # categories, the catalog's counts and its option values' counts, each
    # then cached.
    with django_assert_num_queries(4):
        response = api_client.get(FACETS)

    assert response.json()["count"] == 3


def test_the_cached_counts_follow_a_stock_change(
    api_client, django_capture_on_commit_callbacks
):
    product = ProductFactory(stock=1, price=Decimal("12.00"))
    ProductFactory(stock=0, price=Decimal("30.00"))
    api_client.get(FACETS)

    with django_capture_on_commit_callbacks(execute=True):
        adjust_stock(variant=variant_of(product), quantity=-1)
    facets = api_client.get(FACETS, {"in_stock": "false"}).json()

    assert facets["count"] == 2
    assert facets["in_stock"] == {"true": 0, "false": 2}
    assert [band["count"] for band in facets["price_ranges"][1:3]] == [1, 1]


def test_the_cached_counts_are_kept_per_price_bands(settings):
    ProductFactory(price=Decimal("30.00"))
    assert [band["count"] for band in product_facets({})["price_ranges"]] == [
        0,
        0,
        1,
        0,
        0,
        0,
    ]

    settings.CATALOG_PRICE_BANDS = [Decimal("40.00")]
    ranges = product_facets({})["price_ranges"]

    assert [(band["min"], band["count"]) for band in ranges] == [
        ("0.00", 1),
        ("40.00", 0),
    ]


# --- Options ------------------------------------------------------------------------

SIZES = ["S", "M", "L"]
COLOURS = ["Red", "Blue", "Sand"]


@pytest.fixture(scope="class")
def clothes(django_db_setup, django_db_blocker):
    """Twelve tees, each sold in a random few of the size and colour pairs.

    Made once for a class of tests, which only read them.
    """
    with rows_kept_for_a_class(django_db_blocker):
        make_clothes()
        yield


def make_clothes():
    rng = random.Random(17)
    category = CategoryFactory(name="Tees")
    for number in range(12):
        pairs = rng.sample([(s, c) for s in SIZES for c in COLOURS], rng.randint(1, 5))
        tee = TeeFactory(
            sku=f"TEE-{number}",
            name=f"Tee {number}",
            category=category,
            option_types={"Size": SIZES, "Colour": COLOURS},
            variants=[
                variant_row(size, colour, price="10.00", stock=rng.randint(0, 2))
                for size, colour in pairs
            ],
        )
        if number % 5 == 4:
            # An inactive variant counts for nothing.
            services.update_variant(variant=tee.variants.first(), is_active=False)
    ProductFactory(sku="PLAIN", category=category)  # a default variant: no options


def brute_force_options(wanted, in_stock=None):
    """The option facet counted product by product, variant by variant."""
    counts = {}
    for product in Product.objects.active().prefetch_related("variants"):
        if in_stock == "true" and product.stock == 0:
            continue
        variants = [variant for variant in product.variants.all() if variant.is_active]
        for name in {"Size", "Colour"}:
            others = {n: values for n, values in wanted.items() if n != name}
            for value in {v.options.get(name) for v in variants} - {None}:
                if any(
                    variant.options.get(name) == value
                    and all(variant.options.get(n) in vs for n, vs in others.items())
                    for variant in variants
                ):
                    counts.setdefault(name, {}).setdefault(value, 0)
                    counts[name][value] += 1
    return counts


@pytest.mark.usefixtures("clothes")
class TestOptionCountsOnRandomTees:
    """The option counts on one set of random tees, which these tests share."""

    @pytest.mark.parametrize(
        "query",
        [
            [],
            [("option", "Size:M")],
            [("option", "Size:M"), ("option", "Size:L")],
            [("option", "Size:S"), ("option", "Colour:Red")],
            [("option", "Colour:Sand"), ("in_stock", "true")],
            [("in_stock", "true")],
            # A search counts its matches' option values with their cells:
            # every tee matches, and the other filters still narrow them.
            [("search", "tee")],
            [("search", "tee"), ("in_stock", "true"), ("category", "tees")],
        ],
    )
    def test_option_counts_match_a_brute_force_count(self, api_client, query):
        wanted = {}
        for name, pair in query:
            if name == "option":
                option, value = pair.split(":")
                wanted.setdefault(option, []).append(value)
        in_stock = dict(query).get("in_stock")

        response = api_client.get(f"{FACETS}?{urlencode(query)}")

        assert response.status_code == 200
        assert all_counts_are_integers(response.json())
        options = response.json()["options"]
        assert {
            name: {entry["value"]: entry["count"] for entry in entries}
            for name, entries in options.items()
        } == brute_force_options(wanted, in_stock)

    def test_option_values_come_most_common_first(self, api_client):
        options = api_client.get(FACETS).json()["options"]

        for entries in options.values():
            counts = [entry["count"] for entry in entries]
            assert counts == sorted(counts, reverse=True)

    def test_an_option_filters_cells_are_counted_once_a_catalog_version(
        self, api_client, django_assert_num_queries
    ):
        api_client.get(FACETS, {"option": "Size:M"})

        # Whether a sale started or ended, and the option values: the values
        # of the other names, and those of Size with Size left out. The
        # products with a size M were counted by category, band and stock
        # state already.
        with django_assert_num_queries(3):
            response = api_client.get(FACETS, {"option": "Size:M", "in_stock": "true"})

        expected = sum(
            1
            for tee in Product.objects.active().prefetch_related("variants")
            if tee.stock
            and any(
                v.is_active and v.options.get("Size") == "M" for v in tee.variants.all()
            )
        )
        assert response.json()["count"] == expected


def test_one_options_values_are_found_whatever_their_characters(api_client):
    colours = {"TEE-C": "Crème brûlée", "TEE-Q": 'Say "hi" \\ 名'}
    for sku, colour in colours.items():
        SizedProductFactory(
            sku=sku,
            option_types={"Colour": [colour]},
            variants=[variant_row(colour, price="9.00", sku=f"{sku}-1")],
        )

    for sku, colour in colours.items():
        listed = api_client.get("/api/v1/products/", {"option": f"Colour:{colour}"})
        counted = api_client.get(FACETS, {"option": f"Colour:{colour}"})

        assert [p["sku"] for p in listed.json()["results"]] == [sku]
        assert counted.json()["count"] == 1
