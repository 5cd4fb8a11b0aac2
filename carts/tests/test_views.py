"""The cart pages, through Django's test client: add, update, remove, the
header's count, and the session cart merged at login and registration."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from carts.context_processors import cart as cart_context
from carts.models import Cart, CartItem
from carts.session import SESSION_KEY
from carts.tests.factories import CartFactory, CartItemFactory
from catalog import images
from catalog import services as catalog_services
from catalog.models import ProductImage
from catalog.tests.factories import ProductFactory, image_file, variant_of
from pricing.tests.factories import method_data, shipping_zone

pytestmark = pytest.mark.django_db

CART = "/cart/"
ADD = "/cart/add/"
LOGIN = "/accounts/login/"
REGISTER = "/accounts/register/"


def update_url(item):
    return f"/cart/items/{item.pk}/"


def remove_url(item):
    return f"/cart/items/{item.pk}/remove/"


def add(client, product, quantity):
    """Add to the cart as the product page does, then show the cart.

    Following the redirect shows (and so uses up) the message, so that a
    test's own action is the only one that leaves a message.
    """
    return client.post(ADD, {"product": product.pk, "quantity": quantity}, follow=True)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def session_lines(client):
    """(product name, quantity) of the client's session cart, in line order."""
    cart_id = client.session.get(SESSION_KEY)
    return [
        (item.product.name, item.quantity)
        for item in CartItem.objects.filter(cart_id=cart_id).with_product()
    ]


def account_lines(user):
    return [
        (item.product.name, item.quantity)
        for item in CartItem.objects.filter(cart__user=user).with_product()
    ]


def product(name="Blue mug", *, price="12.50", stock=10, **kwargs):
    return ProductFactory(name=name, price=Decimal(price), stock=stock, **kwargs)


def header_count(response):
    match = re.search(
        r'<span class="cart-count">\((\d+)\)</span>', response.content.decode()
    )
    return int(match.group(1))


@pytest.fixture
def mug():
    return product()


@pytest.fixture
def shopper():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def shopper_client(client, shopper):
    client.force_login(shopper)
    return client


# --- The cart page ------------------------------------------------------------------


def test_an_empty_cart_says_so_and_creates_no_cart(client):
    response = client.get(CART)

    assert response.status_code == 200
    assertContains(response, "Your cart is empty.")
    assertNotContains(response, "Checkout</a>")
    assert Cart.objects.count() == 0
    assert header_count(response) == 0


def test_the_cart_shows_each_line_with_quantity_update_remove_and_the_totals(
    client, mug
):
    pan = product("Cast-iron pan", price="25.00")
    add(client, mug, 2)
    add(client, pan, 1)
    item = CartItem.objects.get(variant__product=mug)

    response = client.get(CART)

    assert response.status_code == 200
    assertContains(
        response,
        f'<label for="line-{item.pk}-quantity">Quantity</label>',
        html=True,
    )
    assertContains(
        response,
        f'<input type="number" name="quantity" value="2" inputmode="numeric" '
        f'min="1" max="1000" required id="line-{item.pk}-quantity">',
        html=True,
    )
    assertContains(
        response,
        f'<form class="line-quantity" method="post" action="/cart/items/{item.pk}/">',
    )
    assertContains(response, f'action="/cart/items/{item.pk}/remove/"')
    assertContains(response, ">Update</button>", count=2)
    assertContains(response, ">Remove</button>", count=2)
    assertContains(response, "<dt>Subtotal</dt><dd>50.00\N{NO-BREAK SPACE}USD</dd>")
    assertContains(response, "<dt>Shipping (estimate)</dt><dd>Free</dd>")
    assertContains(
        response,
        '<dt class="total">Total</dt><dd class="total">50.00\N{NO-BREAK SPACE}USD</dd>',
    )
    assertContains(
        response, '<a class="button button-wide" href="/checkout/">Checkout</a>'
    )
    assert header_count(response) == 3


def test_the_cart_estimates_shipping_by_the_cheapest_method_where_there_are_methods(
    client, mug, settings
):
    settings.STORE_COUNTRY = "GB"
    shipping_zone(
        "UK",
        ["GB"],
        [
            method_data("courier", price=Decimal("9.00")),
            method_data("post", price=Decimal("3.50")),
        ],
    )
    client.post(ADD, {"product": mug.pk, "quantity": 1})

    response = client.get(CART)

    assertContains(
        response,
        "<dt>Shipping (estimate) (Post)</dt><dd>3.50\N{NO-BREAK SPACE}USD</dd>",
    )
    assertContains(
        response,
        "For delivery to United Kingdom, by the cheapest method: you choose "
        "your address and shipping at checkout.",
    )
    assertNotContains(response, "more for free shipping")


def test_the_cart_estimates_shipping_below_the_free_shipping_threshold(client, mug):
    add(client, mug, 1)

    response = client.get(CART)

    assertContains(
        response, "<dt>Shipping (estimate)</dt><dd>5.00\N{NO-BREAK SPACE}USD</dd>"
    )
    assertContains(
        response,
        '<dd class="total">17.50\N{NO-BREAK SPACE}USD</dd>',
    )
    assertContains(
        response,
        "Add 37.50\N{NO-BREAK SPACE}USD more for free shipping.",
    )


def test_the_cart_prices_lines_at_the_current_catalog_price(client, mug):
    add(client, mug, 2)
    catalog_services.update_product(product=mug, price=Decimal("14.00"))

    response = client.get(CART)

    assertContains(response, "14.00\N{NO-BREAK SPACE}USD each")
    assertContains(response, "<dt>Subtotal</dt><dd>28.00\N{NO-BREAK SPACE}USD</dd>")


def test_the_cart_warns_about_lines_the_stock_no_longer_covers(client, mug):
    pan = product("Cast-iron pan")
    rake = product("Bamboo rake")
    add(client, mug, 4)
    add(client, pan, 1)
    add(client, rake, 1)
    catalog_services.set_stock(variant=variant_of(mug), stock=3)
    catalog_services.set_stock(variant=variant_of(pan), stock=0)
    catalog_services.update_product(product=rake, is_active=False)

    response = client.get(CART)

    assertContains(
        response,
        "Some items can no longer be bought in the quantity you chose.",
    )
    assertContains(
        response,
        '<p class="cart-line-problem">'
        "Only 3 left: lower the quantity to check out.</p>",
    )
    assertContains(
        response,
        '<p class="cart-line-problem">Out of stock: remove it to check out.</p>',
    )
    assertContains(
        response,
        '<p class="cart-line-problem">No longer for sale: remove it to check out.</p>',
    )


def test_a_line_shows_its_products_thumbnail(client, shopper, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mug = product("Blue mug")
    image = images.add_image(product=mug, image=image_file("mug.png", size=(400, 400)))
    CartItemFactory(cart=CartFactory(user=shopper), product=mug)
    client.force_login(shopper)
    webp = [f"/media/{made['name']}" for made in image.renditions["thumbnail"]["webp"]]
    jpeg = [f"/media/{made['name']}" for made in image.renditions["thumbnail"]["jpeg"]]

    response = client.get(CART)

    assertContains(
        response,
        f"""<picture>
          <source type="image/webp" sizes="4.5rem"
            srcset="{webp[0]} 320w, {webp[1]} 400w">
          <img src="{jpeg[0]}" sizes="4.5rem" srcset="{jpeg[0]} 320w, {jpeg[1]} 400w"
            width="320" height="320" alt="Blue mug">
        </picture>""",
        html=True,
    )


def test_the_cart_page_reads_a_fixed_number_of_queries(
    client, shopper, django_assert_num_queries
):
    cart = CartFactory(user=shopper)
    for number in range(5):
        mug = product(f"Mug {number}")
        ProductImage.objects.create(product=mug, image=f"products/mug-{number}.png")
        CartItemFactory(cart=cart, product=mug)
    client.force_login(shopper)
    client.get(CART)  # the category menu is cached from here on

    # The session, the user, the cart, its lines with their products, their
    # pictures; the header's count comes from the lines; the shipping
    # pricing rules of the country, for the estimate.
    # (+1: whether a sale started or ended, before the lines are priced)
    with django_assert_num_queries(7):
        response = client.get(CART)

    assert header_count(response) == 5


def test_an_anonymous_cart_page_reads_the_session_the_cart_and_its_lines(
    client, mug, django_assert_num_queries
):
    add(client, mug, 1)
    client.get(CART)

    # The session, the cart, its lines with their products, their pictures,
    # the pricing rules of the country (for the estimate).
    # (+1: whether a sale started or ended, before the lines are priced)
    with django_assert_num_queries(6):
        client.get(CART)


def test_the_cart_page_has_no_inline_script_or_style(client, mug):
    add(client, mug, 1)

    response = client.get(CART)

    content = response.content.decode()
    assert "<script" not in content
    assert "<style" not in content
    assert " style=" not in content
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


# --- Adding -------------------------------------------------------------------------


def test_add_puts_the_product_in_a_new_session_cart_and_says_so(client, mug):
    response = client.post(ADD, {"product": mug.pk, "quantity": 2})

    assertRedirects(response, CART)
    assert messages_of(response) == [
        "Added 2 \N{MULTIPLICATION SIGN} Blue mug to your cart."
    ]
    cart = Cart.objects.get()
    assert cart.user is None
    assert client.session[SESSION_KEY] == cart.pk
    assert session_lines(client) == [("Blue mug", 2)]


def test_adding_the_same_product_again_adds_to_its_line(client, mug):
    add(client, mug, 2)

    add(client, mug, 3)

    assert session_lines(client) == [("Blue mug", 5)]
    assert Cart.objects.count() == 1


def test_a_logged_in_shopper_adds_to_the_account_cart(shopper_client, shopper, mug):
    response = shopper_client.post(ADD, {"product": mug.pk, "quantity": 1})

    assertRedirects(response, CART)
    assert account_lines(shopper) == [("Blue mug", 1)]
    assert SESSION_KEY not in shopper_client.session


def test_a_session_cart_deleted_meanwhile_starts_a_new_one(client, mug):
    add(client, mug, 1)
    old_cart_id = client.session[SESSION_KEY]
    Cart.objects.filter(pk=old_cart_id).delete()  # cleared as stale

    response = client.post(ADD, {"product": mug.pk, "quantity": 2})

    assertRedirects(response, CART)
    assert client.session[SESSION_KEY] != old_cart_id
    assert session_lines(client) == [("Blue mug", 2)]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Enter a whole number of at least 1."),
        ("-1", "Enter a whole number of at least 1."),
        ("1.5", "Enter a whole number of at least 1."),
        ("two", "Enter a whole number of at least 1."),
        ("", "Enter a quantity."),
        ("1001", "Enter at most 1000."),
    ],
)
def test_add_shows_a_bad_quantity_beside_the_field_on_the_product_page(
    client, mug, quantity, message
):
    response = client.post(ADD, {"product": mug.pk, "quantity": quantity})

    assert response.status_code == 400
    assertContains(response, "<h1>Blue mug</h1>", status_code=400)
    assertContains(
        response,
        '<ul class="errorlist field-error" id="quantity_error">'
        f"<li>{message}</li></ul>",
        status_code=400,
    )
    assertContains(
        response,
        f'name="quantity" value="{quantity}"',
        status_code=400,
    )
    assertContains(
        response,
        'aria-invalid="true" aria-describedby="quantity_error"',
        status_code=400,
    )
    assert CartItem.objects.count() == 0


def test_add_above_the_stock_shows_what_is_left_beside_the_quantity(client):
    pan = product("Cast-iron pan", stock=3)

    response = client.post(ADD, {"product": pan.pk, "quantity": 4})

    assert response.status_code == 409
    assertContains(
        response,
        '<ul class="errorlist field-error" id="quantity_error">'
        "<li>Only 3 of Cast-iron pan in stock.</li></ul>",
        status_code=409,
    )
    assertContains(response, 'name="quantity" value="4"', status_code=409)
    assert CartItem.objects.count() == 0


def test_add_counts_what_the_cart_already_holds_against_the_stock(client):
    pan = product("Cast-iron pan", stock=3)
    add(client, pan, 2)

    response = client.post(ADD, {"product": pan.pk, "quantity": 2})

    assertContains(
        response,
        "Only 3 of Cast-iron pan in stock, and your cart already holds 2.",
        status_code=409,
    )
    assert session_lines(client) == [("Cast-iron pan", 2)]


def test_add_of_an_out_of_stock_product_says_so(client):
    copper = product("Copper pan", stock=0)

    response = client.post(ADD, {"product": copper.pk, "quantity": 1})

    assertContains(response, "<li>Copper pan is out of stock.</li>", status_code=409)


def test_add_beyond_a_thousand_in_one_line_is_refused_beside_the_quantity(client):
    crate = product("Crate of nails", stock=5000)
    add(client, crate, 999)

    response = client.post(ADD, {"product": crate.pk, "quantity": 2})

    assertContains(
        response,
        "A cart holds at most 1000 of one product; this line would hold 1001.",
        status_code=400,
    )
    assert session_lines(client) == [("Crate of nails", 999)]


@pytest.mark.parametrize(
    "product_value",
    ["inactive", "unknown", "abc", "", "99999999999999999999999", "-3"],
)
def test_add_of_a_product_not_for_sale_goes_to_the_cart_with_a_message(
    client, product_value
):
    retired = product("Retired mug", is_active=False)
    value = {"inactive": retired.pk, "unknown": retired.pk + 1000}.get(
        product_value, product_value
    )

    response = client.post(ADD, {"product": value, "quantity": 1})

    assertRedirects(response, CART)
    assert messages_of(response) == ["That product is not for sale."]
    assert CartItem.objects.count() == 0


def test_add_answers_only_posts(client):
    response = client.get(ADD)

    assert response.status_code == 405


def test_cart_forms_need_the_csrf_token(mug):
    client = Client(enforce_csrf_checks=True)

    response = client.post(ADD, {"product": mug.pk, "quantity": 1})

    assert response.status_code == 403
    assert CartItem.objects.count() == 0


def test_cart_writes_past_the_limit_are_refused_with_429(
    client, mug, settings, ratelimit_clock
):
    settings.RATELIMIT_CART_WRITE = "2/m"
    add(client, mug, 1)
    add(client, mug, 1)

    response = client.post(ADD, {"product": mug.pk, "quantity": 1})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assertContains(response, "Too many changes to your cart.", status_code=429)
    assert session_lines(client) == [("Blue mug", 2)]


# --- Updating and removing ----------------------------------------------------------


@pytest.fixture
def line(client, mug):
    """The anonymous client's cart line of 2 blue mugs."""
    add(client, mug, 2)
    return CartItem.objects.get()


def test_update_sets_the_lines_quantity_and_says_so(client, line):
    response = client.post(update_url(line), {"quantity": 5})

    assertRedirects(response, CART)
    assert messages_of(response) == ["Blue mug: your cart now holds 5."]
    assert session_lines(client) == [("Blue mug", 5)]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Enter a whole number of at least 1."),
        ("abc", "Enter a whole number of at least 1."),
        ("", "Enter a quantity."),
        ("5000", "Enter at most 1000."),
    ],
)
def test_update_shows_a_bad_quantity_beside_that_lines_field(
    client, line, quantity, message
):
    other = product("Teapot")
    add(client, other, 1)
    other_line = CartItem.objects.get(variant__product=other)

    response = client.post(update_url(line), {"quantity": quantity})

    assert response.status_code == 400
    field_id = f"line-{line.pk}-quantity"
    assertContains(
        response,
        f'<ul class="errorlist field-error" id="{field_id}_error">'
        f"<li>{message}</li></ul>",
        status_code=400,
    )
    assertContains(
        response,
        f'aria-invalid="true" aria-describedby="{field_id}_error" id="{field_id}"',
        status_code=400,
    )
    if quantity:
        assertContains(response, f'name="quantity" value="{quantity}"', status_code=400)
    # The other line shows its own quantity, without an error.
    assertContains(
        response,
        f'value="1" inputmode="numeric" min="1" max="1000" required '
        f'id="line-{other_line.pk}-quantity"',
        status_code=400,
    )
    assert session_lines(client) == [("Blue mug", 2), ("Teapot", 1)]


def test_update_above_the_stock_shows_what_is_left_beside_the_line(client, line, mug):
    catalog_services.set_stock(variant=variant_of(mug), stock=4)

    response = client.post(update_url(line), {"quantity": 6})

    assert response.status_code == 409
    assertContains(
        response,
        f'<ul class="errorlist field-error" id="line-{line.pk}-quantity_error">'
        "<li>Only 4 of Blue mug in stock.</li></ul>",
        status_code=409,
    )
    assert session_lines(client) == [("Blue mug", 2)]


def test_update_of_a_product_no_longer_for_sale_says_to_remove_it(client, line, mug):
    catalog_services.update_product(product=mug, is_active=False)

    response = client.post(update_url(line), {"quantity": 1})

    assertContains(
        response, "Blue mug is no longer for sale: remove it.", status_code=400
    )
    assert session_lines(client) == [("Blue mug", 2)]


def test_remove_takes_the_line_out_and_says_so(client, line):
    response = client.post(remove_url(line))

    assertRedirects(response, CART)
    assert messages_of(response) == ["Removed Blue mug from your cart."]
    assert session_lines(client) == []


def test_a_second_remove_of_the_same_line_says_it_is_gone(client, line):
    client.post(remove_url(line), follow=True)

    response = client.post(remove_url(line))

    assertRedirects(response, CART)
    assert messages_of(response) == ["That item is no longer in your cart."]


@pytest.mark.parametrize("action", [update_url, remove_url])
def test_another_shoppers_line_is_left_alone(client, shopper, mug, action):
    theirs = CartItemFactory(cart__user=shopper, product=mug, quantity=2)
    add(client, mug, 1)  # a cart of their own

    response = client.post(action(theirs), {"quantity": 7})

    assertRedirects(response, CART)
    assert messages_of(response) == ["That item is no longer in your cart."]
    assert account_lines(shopper) == [("Blue mug", 2)]


def test_a_shopper_without_a_cart_cannot_touch_a_line(client, shopper, mug):
    theirs = CartItemFactory(cart__user=shopper, product=mug, quantity=2)

    response = client.post(remove_url(theirs))

    assertRedirects(response, CART)
    assert account_lines(shopper) == [("Blue mug", 2)]


def test_a_line_id_that_is_not_a_number_is_not_found(client):
    response = client.post("/cart/items/abc/")

    assert response.status_code == 404


def test_a_line_id_beyond_any_database_id_is_simply_not_in_the_cart(client, line):
    response = client.post("/cart/items/99999999999999999999999/", {"quantity": 1})

    assertRedirects(response, CART)
    assert session_lines(client) == [("Blue mug", 2)]


# --- The header's count -------------------------------------------------------------


def test_every_page_counts_the_units_in_the_cart(client, mug):
    add(client, mug, 2)
    add(client, product("Teapot"), 3)

    response = client.get("/products/")

    assertContains(
        response,
        '<a class="cart-link" href="/cart/">'
        'Cart <span class="cart-count">(5)</span></a>',
        html=True,
    )


def test_the_header_counts_the_account_cart_when_logged_in(
    shopper_client, shopper, mug
):
    CartItemFactory(cart__user=shopper, product=mug, quantity=4)

    response = shopper_client.get("/")

    assert header_count(response) == 4


def test_the_count_costs_one_query_and_only_when_shown(
    client, mug, django_assert_num_queries
):
    add(client, mug, 2)
    request = RequestFactory().get("/")
    request.session = client.session
    assert request.session.get(SESSION_KEY) is not None  # loaded
    request.user = AnonymousUser()

    with django_assert_num_queries(0):
        context = cart_context(request)
    with django_assert_num_queries(1):
        assert context["cart_count"]() == 2
    with django_assert_num_queries(0):
        assert context["cart_count"]() == 2


def test_a_page_without_a_cart_makes_no_query_for_the_count(
    client, django_assert_num_queries
):
    client.get("/")  # the home page's catalog reads are cached from here on

    with django_assert_num_queries(0):
        response = client.get("/")

    assert header_count(response) == 0


def test_a_request_for_a_host_not_allowed_shows_the_cart_link_without_a_count(
    client, mug
):
    add(client, mug, 2)
    client.raise_request_exception = False

    # Refused before the user is known: whose cart the session holds is not.
    response = client.get("/products/", HTTP_HOST="evil.example.com")

    assertContains(
        response,
        '<a class="cart-link" href="/cart/">Cart</a>',
        status_code=400,
        html=True,
    )


# --- Merging at login and registration ----------------------------------------------


def log_in(client, user, next_page=""):
    return client.post(
        f"{LOGIN}{next_page}",
        {"username": user.email, "password": DEFAULT_PASSWORD},
        follow=True,
    )


def test_logging_in_merges_the_session_cart_and_says_what_was_added(
    client, shopper, mug
):
    teapot = product("Teapot")
    CartItemFactory(cart__user=shopper, product=mug, quantity=1)
    add(client, mug, 2)
    add(client, teapot, 1)
    session_cart_id = client.session[SESSION_KEY]

    response = log_in(client, shopper, "?next=/cart/")

    assert response.redirect_chain == [("/cart/", 302)]
    assert account_lines(shopper) == [("Blue mug", 3), ("Teapot", 1)]
    assertContains(
        response,
        '<li class="message success">Your cart is now in your account: '
        "2 \N{MULTIPLICATION SIGN} Blue mug, "
        "1 \N{MULTIPLICATION SIGN} Teapot added.</li>",
        html=True,
    )
    assert not Cart.objects.filter(pk=session_cart_id).exists()
    assert SESSION_KEY not in client.session
    assert header_count(response) == 4


def test_the_merge_caps_lines_at_the_stock_and_drops_what_cannot_be_sold(
    client, shopper
):
    pan = product("Cast-iron pan", stock=5)
    copper = product("Copper pan", stock=2)
    rake = product("Bamboo rake", stock=2)
    CartItemFactory(cart__user=shopper, product=pan, quantity=2)
    add(client, pan, 4)
    add(client, copper, 1)
    add(client, rake, 1)
    catalog_services.set_stock(variant=variant_of(copper), stock=0)
    catalog_services.update_product(product=rake, is_active=False)

    response = log_in(client, shopper)

    assert account_lines(shopper) == [("Cast-iron pan", 5)]
    assertContains(
        response,
        '<li class="message warning">Cast-iron pan: only 5 in stock, so your cart '
        "holds 5 instead of 6.</li>",
        html=True,
    )
    assertContains(
        response,
        '<li class="message warning">Copper pan was not added to your cart: it is '
        "out of stock.</li>",
        html=True,
    )
    assertContains(
        response,
        '<li class="message warning">Bamboo rake was not added to your cart: it is '
        "no longer for sale.</li>",
        html=True,
    )


def test_registering_merges_the_session_cart_and_says_so(client, mug):
    add(client, mug, 2)

    response = client.post(
        f"{REGISTER}?next=/cart/",
        {
            "email": "grace@example.com",
            "password1": "analytical-engine-42",
            "password2": "analytical-engine-42",
        },
        follow=True,
    )

    assert response.redirect_chain == [("/cart/", 302)]
    user = response.context["user"]
    assert user.email == "grace@example.com"
    assert account_lines(user) == [("Blue mug", 2)]
    assertContains(
        response,
        "Your cart is now in your account: 2 \N{MULTIPLICATION SIGN} Blue mug added.",
    )
    assert Cart.objects.filter(user__isnull=True).count() == 0


def test_logging_in_with_an_empty_session_cart_says_nothing_about_carts(
    client, shopper, mug
):
    add(client, mug, 1)
    client.post(remove_url(CartItem.objects.get()), follow=True)

    response = log_in(client, shopper)

    assert account_lines(shopper) == []
    assertNotContains(response, "your cart")
    assert Cart.objects.filter(user__isnull=True).count() == 0


def test_logging_in_without_a_session_cart_changes_no_cart(client, shopper, mug):
    CartItemFactory(cart__user=shopper, product=mug, quantity=1)

    response = log_in(client, shopper)

    assert account_lines(shopper) == [("Blue mug", 1)]
    assertNotContains(response, "Your cart is now in your account")


def test_after_logging_out_the_shopper_starts_a_fresh_anonymous_cart(
    client, shopper, mug
):
    log_in(client, shopper)
    add(client, mug, 2)

    response = client.post("/accounts/logout/", follow=True)

    assert header_count(response) == 0
    assert account_lines(shopper) == [("Blue mug", 2)]


def test_the_merge_receiver_ignores_a_login_without_a_session(shopper):
    from carts.receivers import merge_session_cart

    merge_session_cart(sender=type(shopper), request=None, user=shopper)

    assert Cart.objects.count() == 0
