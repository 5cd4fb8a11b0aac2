"""The catalog page's option filter and facets, through Django's client."""

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from pytest_django.asserts import assertContains

from catalog import cache, services
from catalog.filters import MAX_OPTION_VALUES
from catalog.tests.factories import CategoryFactory, ProductFactory
from catalog.tests.test_views import card_names, links

pytestmark = pytest.mark.django_db

PRODUCTS = "/products/"


def make_tee(name, category, variants):
    """A tee sold in `variants`: (size, colour) pairs, or (size, colour, False)
    for an inactive one."""
    sku = name.upper().replace(" ", "-")
    tee = services.create_product(
        sku=sku,
        name=name,
        category=category,
        option_types=[
            {"name": "Size", "values": ["S", "M", "L"]},
            {"name": "Colour", "values": ["Red", "Blue", "Sand"]},
        ],
        variants=[
            {
                "sku": f"{sku}-{size}-{colour}",
                "options": {"Size": size, "Colour": colour},
                "price": Decimal("20.00"),
                "stock": 4,
            }
            for size, colour, *_ in variants
        ],
    )
    for size, colour, *active in variants:
        if active == [False]:
            services.update_variant(
                variant=tee.variants.get(sku=f"{sku}-{size}-{colour}"),
                is_active=False,
            )
    return tee


@pytest.fixture
def tees():
    """Four tees and a plain mug (a default variant: no options).

    In size M: the linen tee (red) and the cotton tee (blue); the wool
    tee's M is no longer sold.
    """
    clothes = CategoryFactory(name="Clothes")
    make_tee("Linen tee", clothes, [("S", "Red"), ("M", "Red"), ("L", "Blue")])
    make_tee("Cotton tee", clothes, [("M", "Blue"), ("L", "Blue")])
    make_tee("Wool tee", clothes, [("S", "Red"), ("M", "Red", False)])
    make_tee("Silk tee", clothes, [("S", "Sand")])
    ProductFactory(name="Mug", category=CategoryFactory(name="Kitchen"))


def option_facets(response):
    """The sidebar's option facets: {name: {value: count}}, in page order."""
    sidebar = response.content.decode().split('<aside class="catalog-sidebar">')[1]
    facets = {}
    for name, items in re.findall(
        r'<h2 id="option-facet-\d+-heading">([^<]+)</h2>\s*<ul>(.*?)</ul>',
        sidebar,
        re.S,
    ):
        facets[name] = dict(
            re.findall(r'>([^<>]+)</(?:a|span)>\s*<span class="count">(\d+)', items)
        )
    return facets


def page_key(query):
    """The cached page's entry for the canonical URL of `query` (a list of pairs)."""
    return cache.read("pages:html", (f"http://testserver{PRODUCTS}?{query}",)).value


def test_the_sidebar_lists_each_option_s_values_with_their_counts(client, tees):
    response = client.get(PRODUCTS)

    assert option_facets(response) == {
        "Colour": {"Blue": "2", "Red": "2", "Sand": "1"},
        "Size": {"S": "3", "L": "2", "M": "2"},
    }
    # As the other facets: a section named by its heading.
    assertContains(
        response,
        '<section class="facet" aria-labelledby="option-facet-2-heading">\n'
        '      <h2 id="option-facet-2-heading">Size</h2>',
    )
    assert links(response, "M") == ["/products/?option=Size%3AM"]


def test_following_a_size_shows_the_products_with_an_active_variant_in_it(client, tees):
    catalog = client.get(PRODUCTS)

    response = client.get(links(catalog, "M")[0])

    assert card_names(response) == ["Cotton tee", "Linen tee"]
    assertContains(response, "2 products")
    # A name's own values are counted without its filter; the other names'
    # values count the products with an M in that value.
    assert option_facets(response) == {
        "Colour": {"Blue": "1", "Red": "1"},
        "Size": {"S": "3", "L": "2", "M": "2"},
    }
    assert response.context["facets"]["in_stock"] == {"true": 2, "false": 0}
    # The header's menu, then the sidebar's category tree.
    assert links(response, "Clothes") == [
        "/categories/clothes/",
        "/categories/clothes/?option=Size%3AM",
    ]


def test_a_chosen_value_is_marked_and_its_link_takes_it_out(client, tees):
    response = client.get(PRODUCTS, {"option": ["Size:M", "Colour:Red"]})

    assertContains(
        response,
        '<a href="/products/?option=Size%3AM" aria-current="true">Red</a>',
    )
    assertContains(
        response,
        '<a href="/products/?option=Colour%3ARed" aria-current="true">M</a>',
    )
    assert links(response, "S") == [
        "/products/?option=Colour%3ARed&option=Size%3AM&option=Size%3AS"
    ]
    assertContains(
        response,
        '<a href="/products/?option=Colour%3ARed">'
        'Clear<span class="visually-hidden"> Size</span></a>',
    )
    assert card_names(response) == ["Linen tee"]


def test_two_values_of_one_option_show_the_products_with_either(client, tees):
    response = client.get(PRODUCTS, {"option": ["Size:M", "Size:S"]})

    assert card_names(response) == ["Silk tee", "Wool tee", "Cotton tee", "Linen tee"]
    assert option_facets(response)["Colour"] == {"Red": "2", "Blue": "1", "Sand": "1"}


def test_a_chosen_value_that_no_product_has_is_listed_to_take_it_out(client, tees):
    response = client.get(PRODUCTS, {"option": "Size:XL"})

    assert card_names(response) == []
    # No colour is left to count with an XL.
    assert option_facets(response) == {
        "Size": {"S": "3", "L": "2", "M": "2", "XL": "0"},
    }
    assert links(response, "XL") == ["/products/"]


def test_every_link_of_the_page_keeps_the_options(client, tees):
    for number in range(12):
        make_tee(f"Tee {number:02}", CategoryFactory(), [("M", "Sand")])

    response = client.get(PRODUCTS, {"option": ["Size:M"], "search": "tee"})

    kept = "option=Size%3AM"
    assert links(response, "Next") == [f"?search=tee&{kept}&page=2"]
    assert links(response, "In stock") == [
        f"/products/?search=tee&{kept}&in_stock=true"
    ]
    assert links(response, "0.00\xa0USD to 9.99\xa0USD") == [
        f"/products/?search=tee&{kept}&min_price=0.00&max_price=9.99"
    ]
    assert links(response, "Clothes")[1:] == [f"/categories/clothes/?search=tee&{kept}"]
    assert links(response, "Clear search") == [f"/products/?{kept}"]
    assertContains(response, '<input type="hidden" name="option" value="Size:M">')


def test_a_category_page_filters_its_own_products_by_option(client, tees):
    response = client.get("/categories/clothes/", {"option": "Colour:Sand"})

    assert card_names(response) == ["Silk tee"]
    assert links(response, "Sand") == ["/categories/clothes/"]


@pytest.mark.parametrize(
    "options",
    [
        ["Size"],
        ["Size:M", ":M"],
        ["Size:"],
        ["Size:M\x00"],
        [f"Size:{number}" for number in range(MAX_OPTION_VALUES + 1)],
    ],
)
def test_a_bad_option_is_left_out_with_a_notice_and_not_cached(client, tees, options):
    response = client.get(PRODUCTS, {"option": options})

    assert response.status_code == 200
    assert len(card_names(response)) == 5
    assertContains(
        response,
        "<li>The options were not understood (each is name:value, at most 20 of "
        "them), so they were left out.</li>",
        html=True,
    )
    assert links(response, "M") == ["/products/?option=Size%3AM"]
    assert page_key(urlencode(sorted(("option", o) for o in set(options)))) is None


def test_as_many_options_as_the_filter_takes_are_no_notice(client, tees):
    options = [f"Size:{number}" for number in range(MAX_OPTION_VALUES)]

    response = client.get(PRODUCTS, {"option": [*options, *options]})

    assert response.context["notices"] == []
    # One more would be past the bound: the other values are no links.
    assert links(response, "M") == []
    assertContains(response, '<span>M</span> <span class="count">2</span>')


def test_option_order_and_repeats_share_one_cached_page(
    client, tees, django_assert_num_queries
):
    first = client.get(PRODUCTS, {"option": ["Size:M", "Size:L"]})

    with django_assert_num_queries(0):
        second = client.get(f"{PRODUCTS}?option=Size:L&option=Size:M&option=Size:M")

    assert second.content == first.content
    assert page_key("option=Size%3AL&option=Size%3AM") is not None
    assert card_names(second) == ["Cotton tee", "Linen tee"]


def test_an_option_filtered_page_reads_the_database_then_the_cache(
    client, tees, django_assert_num_queries
):
    query = {"option": ["Size:M", "Colour:Red"]}

    # As the catalog page without options (10, test_views.py's
    # test_query_budget_does_not_grow_with_the_page: the cells are counted
    # for these options instead of the whole catalog's), and one statement
    # more for each option name given (2): its values are counted without
    # its own filter, apart from the other names' values.
    with django_assert_num_queries(12):
        client.get(PRODUCTS, query)
    with django_assert_num_queries(0):
        response = client.get(PRODUCTS, query)

    assert card_names(response) == ["Linen tee"]
