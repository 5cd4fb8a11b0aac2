"""The catalog pages, through Django's test client."""

import re
from decimal import Decimal

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from accounts.tests.factories import UserFactory
from catalog import images, services
from catalog.models import ProductImage, Sale
from catalog.storefront import PAGE_SIZE
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SaleFactory,
    SizedProductFactory,
    image_file,
    variant_of,
    variant_row,
)

pytestmark = pytest.mark.django_db

PRODUCTS = "/products/"
SCRIPT_NAME = "<script>alert('pwned')</script>"
ESCAPED_SCRIPT_NAME = "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;"


def card_names(response):
    """The product names on the page's cards, in page order."""
    return re.findall(
        r'<h\d class="product-card-name">([^<]*)</h\d>', response.content.decode()
    )


def links(response, label):
    """The hrefs of the page's links whose text is exactly `label`."""
    pattern = rf'<a(?: [^>]*)? href="([^"]*)"[^>]*>{re.escape(label)}</a>'
    return [
        href.replace("&amp;", "&")
        for href in re.findall(pattern, response.content.decode())
    ]


@pytest.fixture
def kitchen():
    """Kitchen > Mugs, and a Garden category beside them."""
    kitchen = CategoryFactory(name="Kitchen", description="Cook and serve.")
    CategoryFactory(name="Mugs", parent=kitchen)
    CategoryFactory(name="Garden")
    return kitchen


def make_product(name, *, category, price="10.00", stock=10, **kwargs):
    return ProductFactory(
        name=name, category=category, price=Decimal(price), stock=stock, **kwargs
    )


# --- Home -------------------------------------------------------------------------


def test_home_lists_top_level_categories_with_their_subcategories(client, kitchen):
    response = client.get("/")

    assert response.status_code == 200
    assert [node.name for node in response.context["categories"]] == [
        "Garden",
        "Kitchen",
    ]
    assertContains(
        response,
        '<a class="category-tile-link" href="/categories/kitchen/">Kitchen</a>',
    )
    assertContains(response, '<li><a href="/categories/mugs/">Mugs</a></li>')


def test_home_shows_the_eight_newest_active_products_newest_first(client, kitchen):
    for number in range(1, 10):
        make_product(f"Pan {number}", category=kitchen)
    make_product("Hidden pan", category=kitchen, is_active=False)

    response = client.get("/")

    assert card_names(response) == [f"Pan {number}" for number in range(9, 1, -1)]
    assertNotContains(response, "Hidden pan")


def test_home_without_products_says_so(client):
    response = client.get("/")

    assert response.status_code == 200
    assertContains(response, "No products yet. Please come back soon.")


def test_home_reads_the_database_once_then_the_cache(
    client, kitchen, django_assert_num_queries
):
    make_product("Pan", category=kitchen)

    # The category tree (2 queries), the newest products and their pictures.
    # ... and, for the page and for its list, whether a sale started or ended (1 each).
    with django_assert_num_queries(6):
        client.get("/")
    with django_assert_num_queries(0):
        response = client.get("/")

    assert card_names(response) == ["Pan"]


# --- Product list: cards ------------------------------------------------------------


def test_product_card_shows_name_link_price_with_currency_and_stock(client, kitchen):
    make_product("Copper pan", category=kitchen, price="1299.50", stock=12)

    response = client.get(PRODUCTS)

    assert response.status_code == 200
    assertContains(
        response,
        '<a class="product-card-link" href="/products/copper-pan/">',
    )
    assertContains(response, '<h2 class="product-card-name">Copper pan</h2>', html=True)
    assertContains(response, '<p class="price">1,299.50\N{NO-BREAK SPACE}USD</p>')
    assertContains(response, '<p class="stock stock-in">In stock</p>', html=True)


def test_product_card_price_is_in_the_store_currency(client, kitchen, settings):
    settings.STORE_CURRENCY = "EUR"
    make_product("Pan", category=kitchen, price="5.00")

    response = client.get(PRODUCTS)

    assertContains(response, "5.00\N{NO-BREAK SPACE}EUR")


@pytest.mark.parametrize(
    ("stock", "state", "label"),
    [
        (6, "in", "In stock"),
        (5, "low", "Only 5 left"),
        (3, "low", "Only 3 left"),
        (1, "low", "Only 1 left"),
        (0, "out", "Out of stock"),
    ],
)
def test_product_card_stock_state_uses_the_low_stock_threshold(
    client, kitchen, stock, state, label
):
    make_product("Pan", category=kitchen, stock=stock)

    response = client.get(PRODUCTS)

    assertContains(
        response, f'<p class="stock stock-{state}">{label}</p>', html=True, count=1
    )


def tee_in(kitchen, *prices):
    """A tee with a size a price: S at the first, L at the second (5 units each)."""
    sizes = ["S", "L"][: len(prices)]
    return SizedProductFactory(
        sku="TEE",
        name="Tee",
        category=kitchen,
        option_types={"Size": sizes},
        variants=[
            variant_row(size, price=price, stock=5)
            for size, price in zip(sizes, prices, strict=True)
        ],
    )


def card_price(response):
    """The price on the page's one product card."""
    [price] = re.findall(r'<p class="price">([^<]*)</p>', response.content.decode())
    return price


@pytest.mark.parametrize(
    "path",
    ["/", PRODUCTS, "/categories/kitchen/", f"{PRODUCTS}?search=tee"],
    ids=["home", "list", "category", "search"],
)
def test_product_card_says_from_before_the_lowest_of_different_prices(
    client, kitchen, path
):
    tee_in(kitchen, "10.00", "12.00")

    response = client.get(path)

    assert card_price(response) == "From 10.00\N{NO-BREAK SPACE}USD"


@pytest.mark.parametrize(
    "prices", [("10.00",), ("10.00", "10.00")], ids=["one variant", "one price"]
)
def test_product_card_of_a_single_price_says_no_from(client, kitchen, prices):
    tee_in(kitchen, *prices)

    response = client.get(PRODUCTS)

    assert card_price(response) == "10.00\N{NO-BREAK SPACE}USD"


def test_product_card_leaves_an_inactive_cheaper_variant_out(client, kitchen):
    tee = tee_in(kitchen, "10.00", "12.00")
    services.update_variant(variant=tee.variants.get(sku="TEE-S"), is_active=False)

    response = client.get(PRODUCTS)

    assert card_price(response) == "12.00\N{NO-BREAK SPACE}USD"


def test_product_card_compares_the_prices_a_sale_leaves(client, kitchen):
    tee = tee_in(kitchen, "10.00", "12.00")
    SaleFactory(
        kind=Sale.Kind.FIXED,
        value=Decimal("2.00"),
        variants=[tee.variants.get(sku="TEE-L")],
    )

    response = client.get(PRODUCTS)

    assert card_price(response) == "10.00\N{NO-BREAK SPACE}USD"


def test_product_card_without_image_shows_the_placeholder(client, kitchen):
    make_product("Pan", category=kitchen)

    response = client.get(PRODUCTS)

    assert re.search(
        r'<img class="placeholder" '
        r'src="/static/img/product-placeholder\.[0-9a-f]+\.svg" '
        r'alt="" width="320" height="320">',
        response.content.decode(),
    )


def test_product_card_shows_its_thumbnail_in_webp_and_jpeg_at_1x_and_2x(
    client, kitchen, media_root
):
    pan = make_product("Pan", category=kitchen)
    images.add_image(
        product=pan, image=image_file("pan.png", size=(1000, 800)), alt_text="A pan"
    )
    made = pan.images.get().renditions["thumbnail"]
    webp, jpeg = made["webp"], made["jpeg"]

    response = client.get(PRODUCTS)

    sizes = "(min-width: 48rem) 16rem, 50vw"
    assertContains(
        response,
        f"""<picture>
          <source type="image/webp" sizes="{sizes}"
            srcset="/media/{webp[0]["name"]} 320w, /media/{webp[1]["name"]} 640w">
          <img src="/media/{jpeg[0]["name"]}" sizes="{sizes}"
            srcset="/media/{jpeg[0]["name"]} 320w, /media/{jpeg[1]["name"]} 640w"
            width="320" height="256" alt="A pan" loading="lazy">
        </picture>""",
        html=True,
    )
    assertNotContains(response, "product-placeholder")


def test_product_card_of_a_picture_without_renditions_shows_the_original(
    client, kitchen
):
    pan = make_product("Pan", category=kitchen)
    # As migration 0010 leaves it, until make_image_renditions runs.
    ProductImage.objects.create(product=pan, image="products/pan.png", alt_text="Pan")

    response = client.get(PRODUCTS)

    assertContains(
        response,
        '<picture><img src="/media/products/pan.png" width="320" height="320" '
        'alt="Pan" loading="lazy"></picture>',
        html=True,
    )


def test_product_list_hides_inactive_products(client, kitchen):
    make_product("On sale", category=kitchen)
    make_product("Withdrawn", category=kitchen, is_active=False)

    response = client.get(PRODUCTS)

    assert card_names(response) == ["On sale"]
    assertContains(response, "1 product")


def test_product_list_without_matches_says_so(client, kitchen):
    make_product("Pan", category=kitchen)

    response = client.get(PRODUCTS, {"search": "teapot"})

    assert card_names(response) == []
    assertContains(response, "No products match.")
    assertContains(response, "0 products matching “teapot”")


# --- Product list: search, sort, filters ------------------------------------------


def test_search_matches_every_word_in_name_description_or_sku(client, kitchen):
    make_product("Blue mug", category=kitchen)
    make_product("Red mug", category=kitchen, description="Deep blue glaze.")
    make_product("Blue plate", category=kitchen)
    make_product("Green cup", category=kitchen, sku="MUG-BLUE-1")

    response = client.get(PRODUCTS, {"search": "BLUE mug"})

    # Most relevant first: both words in the name or the SKU, then one of
    # them in the description only.
    names = card_names(response)
    assert sorted(names[:2]) == ["Blue mug", "Green cup"]
    assert names[2:] == ["Red mug"]
    assertContains(response, "3 products matching “BLUE mug”")
    assertContains(response, 'name="search" value="BLUE mug"')


def test_a_corrected_search_says_what_it_searched_for(client, kitchen):
    make_product("Stoneware mugs", category=kitchen)

    response = client.get(PRODUCTS, {"search": "muggs"})

    assert card_names(response) == ["Stoneware mugs"]
    assertContains(
        response,
        "Showing results for “mugs” (you searched for “muggs”):",
    )
    assertContains(response, 'name="search" value="muggs"')


def test_a_search_sorts_by_relevance_first_and_offers_newest(client, kitchen):
    make_product("Teapot", category=kitchen)

    searched = client.get(PRODUCTS, {"search": "teapot"})
    plain = client.get(PRODUCTS)

    assert [label for _, label in searched.context["sort_options"]][:2] == [
        "Relevance",
        "Newest first",
    ]
    assertContains(searched, '<option value="-created_at">Newest first</option>')
    assertNotContains(plain, "Relevance")


def test_the_sidebar_counts_each_filter_choice_for_the_other_filters(client, kitchen):
    mugs = kitchen.children.get()
    make_product("Blue mug", category=mugs, price="9.99")
    make_product("Red mug", category=mugs, price="12.00", stock=0)
    make_product("Blue pot", category=kitchen, price="30.00")
    make_product("Blue spade", category=CategoryFactory(name="Tools"), price="12.00")

    response = client.get("/categories/kitchen/", {"search": "blue", "min_price": "5"})

    sidebar = response.content.decode().split('<aside class="catalog-sidebar">')[1]
    counts = dict(
        re.findall(r'>([^<>]+)</a>\s*<span class="count">(\d+)</span>', sidebar)
    )
    # The categories leave the category out (the spade counts in Tools);
    # the prices leave the price out; the stock leaves nothing else out.
    assert counts == {
        "Garden": "0",
        "Kitchen": "2",
        "Mugs": "1",
        "Tools": "1",
        "0.00\xa0USD to 9.99\xa0USD": "1",
        "10.00\xa0USD to 24.99\xa0USD": "0",
        "25.00\xa0USD to 49.99\xa0USD": "1",
        "50.00\xa0USD to 99.99\xa0USD": "0",
        "100.00\xa0USD to 249.99\xa0USD": "0",
        "250.00\xa0USD and more": "0",
        "In stock": "2",
        "Out of stock": "0",
    }
    assert links(response, "10.00\xa0USD to 24.99\xa0USD") == [
        "/categories/kitchen/?search=blue&min_price=10.00&max_price=24.99"
    ]
    assert links(response, "In stock") == [
        "/categories/kitchen/?search=blue&min_price=5&in_stock=true"
    ]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["Cheap pan", "Dear pan", "Mid pan"]),
        ("price", ["Cheap pan", "Mid pan", "Dear pan"]),
        ("-price", ["Dear pan", "Mid pan", "Cheap pan"]),
        ("name", ["Cheap pan", "Dear pan", "Mid pan"]),
        ("-name", ["Mid pan", "Dear pan", "Cheap pan"]),
        ("created_at", ["Mid pan", "Dear pan", "Cheap pan"]),
    ],
)
def test_sort_orders_by_price_name_and_newest(client, kitchen, ordering, expected):
    make_product("Mid pan", category=kitchen, price="20.00")
    make_product("Dear pan", category=kitchen, price="30.00")
    make_product("Cheap pan", category=kitchen, price="10.00")

    response = client.get(PRODUCTS, {"ordering": ordering})

    assert card_names(response) == expected


def test_sort_select_shows_the_applied_order(client, kitchen):
    response = client.get(PRODUCTS, {"ordering": "-price"})

    assertContains(response, '<label for="sort">Sort by</label>', html=True)
    assertContains(
        response, '<option value="-price" selected>Price: high to low</option>'
    )


def test_price_range_and_in_stock_filters_apply(client, kitchen):
    make_product("Too cheap", category=kitchen, price="4.99")
    make_product("Low end", category=kitchen, price="5.00")
    make_product("Sold out", category=kitchen, price="7.00", stock=0)
    make_product("High end", category=kitchen, price="9.00")
    make_product("Too dear", category=kitchen, price="9.01")

    response = client.get(
        PRODUCTS, {"min_price": "5", "max_price": "9", "in_stock": "true"}
    )

    assert card_names(response) == ["High end", "Low end"]
    assertContains(response, 'name="in_stock" value="true" checked')
    assertContains(response, 'name="min_price" min="0" step="0.01"')


def test_unknown_parameters_are_ignored_and_not_carried_on(client, kitchen):
    for number in range(PAGE_SIZE + 1):
        make_product(f"Pan {number}", category=kitchen)

    response = client.get(PRODUCTS, {"utm_source": "mail", "is_active": "false"})

    assert len(card_names(response)) == PAGE_SIZE
    assert links(response, "Next") == ["?page=2"]


# --- Product list: pagination -----------------------------------------------------


@pytest.fixture
def thirteen_mugs(kitchen):
    """13 mugs, Mug 01 the cheapest, and a plate that no search for mugs finds."""
    make_product("Plate", category=kitchen, price="1.00")
    return [
        make_product(f"Mug {number:02}", category=kitchen, price=f"{number}.00")
        for number in range(1, 14)
    ]


def test_pagination_splits_the_list_and_keeps_the_filters(client, thirteen_mugs):
    query = {"search": "mug", "ordering": "price"}

    first = client.get(PRODUCTS, query)
    second = client.get(PRODUCTS, {**query, "page": "2"})

    assert card_names(first) == [f"Mug {number:02}" for number in range(1, 13)]
    assert card_names(second) == ["Mug 13"]
    assert links(first, "Next") == ["?search=mug&ordering=price&page=2"]
    assert links(second, "Previous") == ["?search=mug&ordering=price"]
    assertContains(
        second,
        '<a aria-current="page" aria-label="Page 2" '
        'href="?search=mug&amp;ordering=price&amp;page=2">2</a>',
    )
    assertNotContains(second, ">Next</a>")


def test_sort_form_keeps_the_search(client, thirteen_mugs):
    response = client.get(PRODUCTS, {"search": "mug", "page": "2"})

    assertContains(response, '<input type="hidden" name="search" value="mug">')
    assertNotContains(response, 'name="page"')


@pytest.mark.parametrize(
    ("page", "shown"),
    [("abc", 1), ("0", 1), ("-3", 1), ("2", 2), ("3", 2), ("99999999999999", 2)],
)
def test_page_that_is_not_a_page_shows_the_first_or_last(
    client, thirteen_mugs, page, shown
):
    response = client.get(PRODUCTS, {"page": page})

    assert response.status_code == 200
    assert response.context["page_obj"].number == shown


# --- Product list: bad values -----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        (
            {"ordering": "stock"},
            "That sort order is unknown, so the newest products come first.",
        ),
        (
            {"min_price": "abc"},
            "The lowest price must be a number, so it was left out.",
        ),
        (
            {"max_price": "1e999999"},
            "The highest price must be a number, so it was left out.",
        ),
        (
            {"in_stock": "maybe"},
            "The stock filter was not understood, so it was left out.",
        ),
        (
            {"category": "no-such-category"},
            "There is no such category, so products of every category are shown.",
        ),
        (
            {"search": "x" * 101},
            "The search was too long (at most 100 characters), so it was left out.",
        ),
    ],
)
def test_bad_value_is_left_out_with_a_notice(client, kitchen, params, notice):
    make_product("Pan", category=kitchen)

    response = client.get(PRODUCTS, params)

    assert response.status_code == 200
    assert card_names(response) == ["Pan"]
    assertContains(response, f"<li>{notice}</li>", html=True)


def test_bad_value_is_dropped_from_links_while_good_ones_stay(client, thirteen_mugs):
    response = client.get(PRODUCTS, {"search": "mug", "ordering": "bogus"})

    assert links(response, "Next") == ["?search=mug&page=2"]


def test_bad_value_with_markup_is_not_echoed(client, kitchen):
    response = client.get(PRODUCTS, {"ordering": "<b>x</b>", "in_stock": "<i>"})

    assert response.status_code == 200
    assertNotContains(response, "<b>x</b>")
    assertNotContains(response, "<i>")


# --- Product list: cache and query budget -----------------------------------------


def test_product_list_reads_the_database_then_the_cache(
    client, thirteen_mugs, django_assert_num_queries
):
    query = {"search": "mug", "ordering": "-price", "page": "2"}

    # The category tree (2 queries), whether the search finds anything, the
    # count, the page's ids, its rows and their pictures (1 each), the
    # facets: the categories' names (1, then cached) and every count with
    # the option values (1).
    # (+2: whether a sale started or ended, for the page and for its list)
    with django_assert_num_queries(11):
        client.get(PRODUCTS, query)
    with django_assert_num_queries(0):
        response = client.get(PRODUCTS, query)

    assert card_names(response) == ["Mug 01"]


def test_category_filter_costs_one_query_more_uncached(
    client, thirteen_mugs, django_assert_num_queries
):
    # Every category's subtree (cached until the catalog changes), then as
    # above without a search.
    # (+2: whether a sale started or ended, for the page and for its list)
    # (+1: the facets' option values, counted in one statement)
    with django_assert_num_queries(11):
        client.get("/categories/kitchen/", {"page": "2"})
    with django_assert_num_queries(0):
        client.get("/categories/kitchen/", {"page": "2"})


def test_query_budget_does_not_grow_with_the_page(
    client, kitchen, django_assert_num_queries
):
    subcategory = CategoryFactory(name="Pans", parent=kitchen)
    for number in range(PAGE_SIZE):
        pan = make_product(f"Pan {number}", category=[kitchen, subcategory][number % 2])
        ProductImage.objects.create(product=pan, image=f"products/pan-{number}.png")

    # The category tree (2), the count, the page and its pictures, the
    # facets (2: the categories' names and the catalog's counts).
    # (+2: whether a sale started or ended, for the page and for its list)
    # (+1: the facets' option values, counted in one statement)
    with django_assert_num_queries(10):
        response = client.get(PRODUCTS)

    assert len(card_names(response)) == PAGE_SIZE


def test_cached_list_shows_a_price_change_at_once(
    client, kitchen, django_capture_on_commit_callbacks
):
    pan = make_product("Pan", category=kitchen, price="11.00")
    client.get(PRODUCTS)

    with django_capture_on_commit_callbacks(execute=True):
        pan.price = Decimal("12.50")
        pan.save()
    response = client.get(PRODUCTS)

    assertContains(response, "12.50\N{NO-BREAK SPACE}USD")
    assertNotContains(response, "11.00\N{NO-BREAK SPACE}USD")


def test_pages_are_read_from_the_database_when_redis_is_down(client, kitchen, settings):
    make_product("Pan", category=kitchen)
    # Nothing listens on this port: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:18699/12",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }

    responses = [client.get(path) for path in ("/", PRODUCTS, "/products/pan/")]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert card_names(responses[1]) == ["Pan"]


# --- Category pages ---------------------------------------------------------------


def test_category_page_lists_its_products_and_its_subcategories(client, kitchen):
    mugs = kitchen.children.get()
    make_product("Pan", category=kitchen)
    make_product("Mug", category=mugs)
    make_product("Rake", category=CategoryFactory(name="Tools"))

    response = client.get("/categories/kitchen/")

    assert response.status_code == 200
    assert card_names(response) == ["Mug", "Pan"]
    assertContains(response, '<h1 id="catalog-heading">Kitchen</h1>', html=True)
    assertContains(response, "Cook and serve.")
    assertContains(
        response,
        '<ul class="chips" aria-label="Subcategories">'
        '<li><a href="/categories/mugs/">Mugs</a></li></ul>',
        html=True,
    )


def test_subcategory_page_has_a_breadcrumb_to_its_parent(client, kitchen):
    response = client.get("/categories/mugs/")

    assertContains(
        response,
        '<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>'
        '<li><a href="/">Home</a></li>'
        '<li><a href="/products/">All products</a></li>'
        '<li><a href="/categories/kitchen/">Kitchen</a></li>'
        '<li aria-current="page">Mugs</li></ol></nav>',
        html=True,
    )


def test_category_page_marks_its_top_level_category_in_the_menu(client, kitchen):
    response = client.get("/categories/mugs/")

    assertContains(
        response, '<a href="/categories/kitchen/" aria-current="true">Kitchen</a>'
    )


def test_category_page_keeps_its_category_while_sorting_and_paging(client, kitchen):
    tools = CategoryFactory(name="Tools")
    make_product("Rake", category=tools)
    for number in range(PAGE_SIZE + 1):
        make_product(f"Pan {number:02}", category=kitchen, price=f"{number + 1}.00")

    response = client.get(
        "/categories/kitchen/", {"ordering": "-price", "category": "tools"}
    )

    assert card_names(response)[0] == "Pan 12"
    assert "Rake" not in card_names(response)
    assert links(response, "Next") == ["?ordering=-price&page=2"]
    assertContains(
        response, '<form class="refine" method="get" action="/categories/kitchen/">'
    )
    assertNotContains(response, 'name="category"')


def test_category_links_keep_the_search_and_sort(client, kitchen):
    response = client.get(PRODUCTS, {"search": "mug", "ordering": "name", "page": "1"})

    assert links(response, "Mugs") == ["/categories/mugs/?search=mug&ordering=name"]


def test_category_filter_on_the_product_list_shows_that_category(client, kitchen):
    make_product("Pan", category=kitchen)
    make_product("Rake", category=CategoryFactory(name="Tools"))

    response = client.get(PRODUCTS, {"category": "kitchen"})

    assert card_names(response) == ["Pan"]
    assertContains(response, '<h1 id="catalog-heading">Kitchen</h1>', html=True)
    assertContains(response, '<input type="hidden" name="category" value="kitchen">')


def test_unknown_category_page_is_404_in_the_layout(client, kitchen):
    response = client.get("/categories/no-such-category/")

    assert response.status_code == 404
    assertContains(response, "<h1>Page not found</h1>", status_code=404, html=True)
    assertContains(response, 'class="site-header"', status_code=404)
    assertNotContains(response, "No such category", status_code=404)


# --- Product page -----------------------------------------------------------------


def test_product_page_shows_the_product_and_the_add_to_cart_form(client, kitchen):
    pan = make_product(
        "Copper pan",
        category=kitchen.children.get(),
        price="49.00",
        stock=12,
        description="Heavy.\n\nLasts a lifetime.",
        sku="PAN-1",
    )

    response = client.get("/products/copper-pan/")

    assert response.status_code == 200
    assertContains(response, "<h1>Copper pan</h1>", html=True)
    assertContains(
        response, '<p class="price price-large">49.00\N{NO-BREAK SPACE}USD</p>'
    )
    assertContains(response, '<p class="stock stock-in">In stock</p>', html=True)
    assertContains(response, "<p>Heavy.</p>\n\n<p>Lasts a lifetime.</p>")
    assertContains(response, "<dt>SKU</dt><dd>PAN-1</dd>", html=True)
    assertContains(response, 'alt="No picture yet"')
    assertContains(response, '<label for="quantity">Quantity</label>', html=True)
    assertContains(
        response,
        '<input type="number" id="quantity" name="quantity" value="1" min="1" '
        'max="12" required>',
        html=True,
    )
    assertContains(response, f'<input type="hidden" name="product" value="{pan.pk}">')
    assertContains(response, '<button type="submit">Add to cart</button>', html=True)
    assertContains(response, 'name="csrfmiddlewaretoken"')
    assertContains(
        response, '<li><a href="/categories/kitchen/">Kitchen</a></li>', html=True
    )


def test_add_to_cart_form_posts_to_the_cart(client, kitchen):
    make_product("Pan", category=kitchen)

    response = client.get("/products/pan/")

    assertContains(
        response, '<form class="add-to-cart" method="post" action="/cart/add/">'
    )


def test_product_page_shows_a_gallery_of_medium_pictures_linking_to_the_originals(
    client, kitchen, media_root
):
    pan = make_product("Pan", category=kitchen)
    # A small picture: never enlarged, so its 1x and 2x are one width.
    small = images.add_image(
        product=pan, image=image_file("side.png", size=(500, 500)), alt_text="Side"
    )
    main = images.add_image(
        product=pan, image=image_file("pan.jpg", "JPEG", size=(2000, 1000)), position=0
    )
    made = {
        picture: {
            key: [f"/media/{rendition['name']}" for rendition in renditions]
            for key, renditions in picture.renditions["medium"].items()
        }
        for picture in (main, small)
    }

    response = client.get("/products/pan/")

    wide = "(min-width: 48rem) 50vw, 100vw"
    narrow = "(min-width: 48rem) 25vw, 50vw"
    main_webp, main_jpeg = made[main]["webp"], made[main]["jpeg"]
    small_webp, small_jpeg = made[small]["webp"], made[small]["jpeg"]
    assertContains(
        response,
        f"""<ul class="product-gallery" aria-label="Pictures">
        <li><a href="/media/{main.image.name}"><picture>
          <source type="image/webp" sizes="{wide}"
            srcset="{main_webp[0]} 800w, {main_webp[1]} 1600w">
          <img src="{main_jpeg[0]}" sizes="{wide}"
            srcset="{main_jpeg[0]} 800w, {main_jpeg[1]} 1600w"
            width="800" height="400" alt="Pan">
        </picture></a></li>
        <li><a href="/media/{small.image.name}"><picture>
          <source type="image/webp" sizes="{narrow}" srcset="{small_webp[0]} 500w">
          <img src="{small_jpeg[0]}" sizes="{narrow}" srcset="{small_jpeg[0]} 500w"
            width="500" height="500" alt="Side" loading="lazy">
        </picture></a></li>
        </ul>""",
        html=True,
    )


def test_product_page_low_stock_says_how_many_are_left(client, kitchen, settings):
    settings.CATALOG_LOW_STOCK = 3
    make_product("Pan", category=kitchen, stock=3)

    response = client.get("/products/pan/")

    assertContains(response, '<p class="stock stock-low">Only 3 left</p>', html=True)
    assertContains(response, 'min="1" max="3" required')


def test_out_of_stock_product_cannot_be_added_to_the_cart(client, kitchen):
    make_product("Pan", category=kitchen, stock=0)

    response = client.get("/products/pan/")

    assertContains(response, '<p class="stock stock-out">Out of stock</p>', html=True)
    assertContains(
        response, '<button type="submit" disabled>Add to cart</button>', html=True
    )
    assertContains(
        response,
        '<input type="number" id="quantity" name="quantity" value="1" min="1" '
        "disabled required>",
        html=True,
    )


@pytest.mark.parametrize("slug", ["withdrawn-pan", "no-such-product"])
def test_inactive_or_unknown_product_is_404(client, kitchen, slug):
    make_product("Withdrawn pan", category=kitchen, is_active=False)

    response = client.get(f"/products/{slug}/")

    assert response.status_code == 404
    assertContains(response, "<h1>Page not found</h1>", status_code=404, html=True)


def test_product_page_reads_the_database_then_the_cache(
    client, kitchen, django_assert_num_queries
):
    make_product("Pan", category=kitchen)

    # The product with its category, its pictures, its variants and option
    # types (4 queries), the category tree (2), and, for the page and for its
    # list, whether a sale started or ended (1 each).
    with django_assert_num_queries(8):
        client.get("/products/pan/")
    with django_assert_num_queries(0):
        response = client.get("/products/pan/")

    assertContains(response, "<h1>Pan</h1>", html=True)


def test_product_page_shows_a_stock_change_at_once(
    client, kitchen, django_capture_on_commit_callbacks
):
    pan = make_product("Pan", category=kitchen, stock=2)
    client.get("/products/pan/")

    with django_capture_on_commit_callbacks(execute=True):
        services.take_stock(lines=[(variant_of(pan).pk, 2)], reference="SW-TEST")
    response = client.get("/products/pan/")

    assertContains(response, '<p class="stock stock-out">Out of stock</p>', html=True)


def test_deactivated_product_is_404_at_once(
    client, kitchen, django_capture_on_commit_callbacks
):
    pan = make_product("Pan", category=kitchen)
    client.get("/products/pan/")

    with django_capture_on_commit_callbacks(execute=True):
        pan.is_active = False
        pan.save()
    response = client.get("/products/pan/")

    assert response.status_code == 404


# --- Escaping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", PRODUCTS, "/categories/kitchen/", "/products/scriptalertpwnedscript/"]
)
def test_product_and_category_names_with_markup_are_escaped(client, kitchen, path):
    make_product(SCRIPT_NAME, category=kitchen, description=SCRIPT_NAME)
    CategoryFactory(name=SCRIPT_NAME, parent=kitchen)

    response = client.get(path)

    assert response.status_code == 200
    assertContains(response, ESCAPED_SCRIPT_NAME)
    assertNotContains(response, "<script")


def test_search_term_with_markup_is_escaped(client, kitchen):
    response = client.get(PRODUCTS, {"search": '"><script>x</script>'})

    assertContains(response, "&quot;&gt;&lt;script&gt;x&lt;/script&gt;")
    assertNotContains(response, "<script")


# --- Layout ---------------------------------------------------------------------------


def test_header_has_the_search_box_menu_and_account_links(client, kitchen):
    response = client.get("/accounts/login/")

    assertContains(
        response,
        '<label for="site-search" class="visually-hidden">Search</label>',
        html=True,
    )
    assertContains(
        response,
        '<form class="site-search" role="search" method="get" action="/products/">',
    )
    assertContains(
        response,
        '<nav class="category-menu" aria-label="Shop"><ul>'
        '<li><a href="/products/">All products</a></li>'
        '<li><a href="/categories/garden/">Garden</a></li>'
        '<li><a href="/categories/kitchen/">Kitchen</a></li></ul></nav>',
        html=True,
    )
    assertContains(response, ">Log in</a>")


@pytest.mark.parametrize(
    "path", ["/", PRODUCTS, "/categories/kitchen/", "/products/pan/"]
)
def test_pages_run_no_inline_script_or_style(client, kitchen, path):
    make_product("Pan", category=kitchen)

    response = client.get(path)

    content = response.content.decode()
    assert "<script" not in content
    assert "<style" not in content
    assert " style=" not in content
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


def test_messages_appear_on_the_next_page(client, kitchen):
    client.force_login(UserFactory())

    response = client.post("/accounts/logout/", follow=True)

    assertContains(
        response,
        '<ul class="messages" role="status"><li class="message success">'
        "You are logged out.</li></ul>",
        html=True,
    )


@pytest.mark.urls("core.tests.urls")
def test_server_error_page_is_in_the_layout_without_details(client):
    client.raise_request_exception = False

    response = client.get("/test/page-failure/")

    assert response.status_code == 500
    assertContains(response, '<a class="brand" href="/">ShopSwift</a>', status_code=500)
    assertContains(
        response, '<link rel="stylesheet" href="/static/css/site.css">', status_code=500
    )
    assertNotContains(response, "hunter2", status_code=500)
