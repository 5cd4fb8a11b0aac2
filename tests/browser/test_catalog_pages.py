"""A shopper browses the catalog in Chromium: home, catalog, search, category,
sort, pages, product pages, and the same on a phone-width screen."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalog.tests.factories import SaleFactory, TeeFactory, variant_row

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def card_names(page):
    return page.locator(".product-card-name").all_inner_texts()


def test_shopper_browses_searches_filters_sorts_and_pages(page, screenshot, store):
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome to ShopSwift")).to_be_visible()
    new_arrivals = page.get_by_role("region", name="New arrivals")
    expect(new_arrivals.locator(".product-card-name")).to_have_text(
        ["Copper pan", "Cast-iron pan", *[f"Mug {n:02}" for n in range(14, 8, -1)]]
    )
    categories = page.get_by_role("region", name="Shop by category")
    expect(categories.get_by_role("link", name="Kitchen", exact=True)).to_be_visible()
    expect(categories.get_by_role("link", name="Pans", exact=True)).to_be_visible()
    screenshot("01-home")

    page.get_by_role("link", name="Browse all products").click()
    expect(page).to_have_url(re.compile(r"/products/$"))
    expect(page.get_by_role("heading", name="All products", level=1)).to_be_visible()
    expect(page.get_by_text("17 products")).to_be_visible()
    expect(page.locator(".product-card")).to_have_count(12)
    screenshot("02-catalog")

    page.get_by_label("Search", exact=True).fill("mug")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("14 products matching “mug”")).to_be_visible()
    expect(page.get_by_label("Search", exact=True)).to_have_value("mug")
    screenshot("03-search")

    category_tree = page.get_by_role("navigation", name="Categories")
    category_tree.get_by_role("link", name="Pans", exact=True).click()
    expect(page).to_have_url(re.compile(r"/categories/pans/\?search=mug$"))
    expect(page.get_by_text("0 products matching “mug”")).to_be_visible()
    page.get_by_role("link", name="Clear search").click()
    expect(page).to_have_url(re.compile(r"/categories/pans/$"))
    expect(page.get_by_role("heading", name="Pans", level=1)).to_be_visible()
    assert card_names(page) == ["Copper pan", "Cast-iron pan"]
    screenshot("04-category")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Kitchen"
    ).click()
    page.get_by_label("Sort by").select_option(label="Price: high to low")
    page.get_by_role("button", name="Apply").click()
    # The form sends its empty price fields too; the page ignores them.
    expect(page).to_have_url(re.compile(r"/categories/kitchen/\?ordering=-price&"))
    expect(page.get_by_label("Sort by")).to_have_value("-price")
    assert card_names(page)[:3] == ["Copper pan", "Cast-iron pan", "Mug 14"]
    screenshot("05-sorted")

    page.get_by_role("navigation", name="Pages").get_by_role(
        "link", name="Next"
    ).click()
    expect(page).to_have_url(
        re.compile(r"/categories/kitchen/\?ordering=-price&page=2$")
    )
    assert card_names(page) == ["Mug 04", "Mug 03", "Mug 02", "Mug 01"]
    expect(page.get_by_role("link", name="Page 2")).to_have_attribute(
        "aria-current", "page"
    )
    screenshot("06-page-2")


def test_product_pages_show_stock_and_add_to_cart(page, screenshot, store):
    page.goto("/categories/pans/")

    page.get_by_role("link", name="Cast-iron pan").click()
    expect(page).to_have_url(re.compile(r"/products/cast-iron-pan/$"))
    expect(page.get_by_role("heading", name="Cast-iron pan", level=1)).to_be_visible()
    expect(page.get_by_text("59.00\N{NO-BREAK SPACE}USD")).to_be_visible()
    expect(page.get_by_text("Only 3 left")).to_be_visible()
    expect(page.get_by_text("Seasoned and ready to cook.")).to_be_visible()
    picture = page.get_by_role("img", name="Cast-iron pan")
    expect(picture).to_be_visible()
    # Chromium takes the <picture>'s WebP rendition, and it loads (a broken
    # picture has no natural width).
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.currentSrc").endswith(".webp")
    assert picture.evaluate("img => img.naturalWidth") > 0
    expect(page.get_by_label("Quantity")).to_have_value("1")
    expect(page.get_by_label("Quantity")).to_have_attribute("max", "3")
    expect(page.get_by_role("button", name="Add to cart")).to_be_enabled()
    screenshot("07-product")

    page.go_back()
    page.get_by_role("link", name="Copper pan").click()
    expect(page.get_by_text("Out of stock")).to_be_visible()
    expect(page.get_by_role("img", name="No picture yet")).to_be_visible()
    expect(page.get_by_label("Quantity")).to_be_disabled()
    expect(page.get_by_role("button", name="Add to cart")).to_be_disabled()
    screenshot("08-out-of-stock")


def test_bad_query_and_unknown_pages_are_polite(page, screenshot, store):
    page.goto("/products/?ordering=stock&min_price=cheap&page=99")

    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"lowest price must be a number.*newest products come first", re.S)
    )
    expect(page.get_by_role("link", name="Page 2")).to_have_attribute(
        "aria-current", "page"
    )

    response = page.goto("/categories/no-such-shelf/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    screenshot("09-not-found")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("home", "/"),
        ("catalog", "/products/?search=mug&ordering=price"),
        ("product", "/products/cast-iron-pan/"),
    ],
)
def test_pages_fit_a_phone_screen(page, screenshot, store, name, path):
    page.set_viewport_size(PHONE)

    page.goto(path)

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    expect(page.get_by_label("Search", exact=True)).to_be_in_viewport()
    screenshot(f"10-phone-{name}")


def test_keyboard_focus_is_visible(page, store):
    page.goto("/")

    page.keyboard.press("Tab")

    skip_link = page.get_by_role("link", name="Skip to content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    outline = skip_link.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"


@pytest.fixture
def tee(store):
    """A tee in two sizes and two colours, the large blue one not made, and
    the small red one on sale."""
    tee = TeeFactory(
        name="Linen tee",
        category=store["rake"].category,
        option_types={"Size": ["S", "L"], "Colour": ["Red", "Blue"]},
        variants=[
            variant_row("S", "Red", price="20.00", stock=5),
            variant_row("S", "Blue", price="22.00", stock=5),
            variant_row("L", "Red", price="24.00", stock=1),
        ],
    )
    SaleFactory(value=Decimal("25"), variants=[tee.variants.get(sku="TEE-S-RED")])
    return tee


def test_shopper_filters_by_size_picks_options_and_buys_that_variant(
    page, screenshot, tee
):
    page.goto("/products/")
    sizes = page.get_by_role("region", name="Size")
    expect(sizes.get_by_role("listitem")).to_have_text(["L 1", "S 1"])
    sizes.get_by_role("link", name="L", exact=True).click()
    expect(page).to_have_url(re.compile(r"/products/\?option=Size%3AL$"))
    expect(sizes.get_by_role("link", name="L", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    assert card_names(page) == ["Linen tee"]
    screenshot("11-size-facet")

    page.get_by_role("link", name="Linen tee").click()
    expect(page.get_by_role("heading", name="Linen tee", level=1)).to_be_visible()
    # The first variant: small and red, on sale.
    expect(page.locator(".price-large")).to_contain_text("15.00")
    expect(page.get_by_label("Was 20.00\N{NO-BREAK SPACE}USD")).to_be_visible()
    screenshot("12-options")

    page.get_by_label("Size").select_option("Size:L")
    page.get_by_label("Colour").select_option("Colour:Blue")
    page.get_by_role("button", name="Choose").click()
    expect(page.get_by_role("status")).to_have_text(
        re.compile("This combination is not available")
    )
    expect(page.get_by_role("button", name="Add to cart")).to_be_disabled()

    page.get_by_label("Colour").select_option("Colour:Red")
    page.get_by_role("button", name="Choose").click()
    expect(page.locator(".price-large")).to_have_text("24.00\N{NO-BREAK SPACE}USD")
    expect(page.locator(".facts")).to_contain_text("TEE-L-RED")
    expect(page.get_by_label("Quantity")).to_have_attribute("max", "1")
    screenshot("13-option-chosen")

    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    line = page.locator(".cart-line-options")
    expect(line).to_have_text("Size: L, Colour: Red")
    expect(page.get_by_text("24.00\N{NO-BREAK SPACE}USD").first).to_be_visible()
    screenshot("14-option-in-cart")
