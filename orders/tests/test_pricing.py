"""One pricing pipeline from cart to order: the cart's figures, its shipping
and voucher endpoints, and checkouts that charge exactly what the cart showed."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from carts import services as cart_services
from catalog import services as catalog_services
from catalog.models import Product, Sale
from catalog.tests.factories import CategoryFactory, ProductFactory
from core.testing import assert_problem, race
from orders import services
from orders.models import Order
from orders.tests.conftest import client_for
from orders.tests.factories import address, fill_cart
from orders.tests.test_views import checkout_data
from pricing.models import TaxRate, Voucher, VoucherUse
from pricing.tests.factories import method_data, shipping_zone

CART = "/api/v1/cart/"
SHIPPING = "/api/v1/cart/shipping/"
VOUCHER = "/api/v1/cart/voucher/"
ORDERS = "/api/v1/orders/"


def voucher(code="SAVE10", **fields):
    return Voucher.objects.create(
        code=code,
        **{"kind": "percentage", "value": Decimal("10"), **fields},
    )


@pytest.fixture
def uk():
    """Royal Mail to the UK (4.95, free from 60.00), VAT 20 %, books 0 %."""
    shipping_zone(
        "UK",
        ["GB"],
        [method_data("royal-mail", free_above=Decimal("60.00"))],
    )
    TaxRate.objects.create(country="GB", rate=Decimal("20.00"))
    TaxRate.objects.create(country="GB", tax_class="books", rate=Decimal("0.00"))


@pytest.fixture
def shopper():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def shopper_client(shopper):
    return client_for(shopper)


# --- The cart's shipping and voucher --------------------------------------------------


@pytest.mark.django_db
def test_the_cart_is_priced_for_the_country_and_method_chosen(
    shopper, shopper_client, uk
):
    fill_cart(shopper, (ProductFactory(price=Decimal("10.00"), stock=5), 2))

    response = shopper_client.put(
        SHIPPING, {"country": "gb", "method": "royal-mail"}, format="json"
    )

    assert response.status_code == 200, response.content
    cart = response.json()
    assert (cart["shipping_country"], cart["shipping_method"]) == ("GB", "royal-mail")
    # 20.00 + 4.95 shipping + 20 % tax on the goods (prices exclude tax).
    assert (cart["shipping_cost"], cart["tax"], cart["total"]) == (
        "4.95",
        "4.00",
        "28.95",
    )
    assert cart["items"][0]["tax_rate"] == "20.00"
    assert cart["prices_include_tax"] is False


@pytest.mark.django_db
def test_a_method_that_does_not_ship_to_the_country_is_refused_naming_method(
    shopper, shopper_client, uk
):
    shipping_zone("US", ["US"], [method_data("usps")])

    response = shopper_client.put(
        SHIPPING, {"country": "GB", "method": "usps"}, format="json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert "does not ship to United Kingdom" in problem["errors"]["method"][0]


@pytest.mark.django_db
def test_an_unknown_country_is_refused_naming_country(shopper_client):
    response = shopper_client.put(SHIPPING, {"country": "XX"}, format="json")

    assert "country" in assert_problem(response, 400, "validation_error")["errors"]


@pytest.mark.django_db
def test_a_voucher_applies_to_the_cart_and_comes_off_again(shopper, shopper_client):
    fill_cart(shopper, (ProductFactory(price=Decimal("30.00"), stock=5), 1))
    voucher("SAVE10")

    applied = shopper_client.post(VOUCHER, {"code": "save10"}, format="json")

    assert applied.status_code == 200
    cart = applied.json()
    assert (cart["voucher"], cart["discount"], cart["total"]) == (
        "SAVE10",
        "3.00",
        "32.00",  # 30.00 - 3.00 + 5.00 flat shipping
    )
    assert cart["items"][0]["discount"] == "3.00"
    removed = shopper_client.delete(VOUCHER)
    assert (removed.json()["voucher"], removed.json()["total"]) == (None, "35.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"code": "OTHER"}, "No voucher has this code."),
        ({"ends_at_days": -1}, "This voucher has expired."),
        ({"usage_limit": 1, "used_count": 1}, "This voucher has been used up."),
        ({"min_subtotal": Decimal("50.00")}, "needs a subtotal of at least 50.00"),
    ],
)
def test_a_voucher_that_cannot_be_used_is_refused_saying_why(
    shopper, shopper_client, fields, detail
):
    fill_cart(shopper, (ProductFactory(price=Decimal("30.00"), stock=5), 1))
    fields = dict(fields)
    if "ends_at_days" in fields:
        days = fields.pop("ends_at_days")
        fields["starts_at"] = timezone.now() - timedelta(days=10)
        fields["ends_at"] = timezone.now() + timedelta(days=days)
    voucher(**{"code": "SAVE10", **fields})

    response = shopper_client.post(VOUCHER, {"code": "SAVE10"}, format="json")

    problem = assert_problem(response, 400, "voucher_invalid")
    assert detail in problem["detail"]
    assert shopper_client.get(CART).json()["voucher"] is None


@pytest.mark.django_db
def test_a_voucher_for_a_category_discounts_only_its_lines(shopper, shopper_client):
    mugs = CategoryFactory(slug="mugs")
    mug = ProductFactory(price=Decimal("10.00"), stock=5, category=mugs)
    tea = ProductFactory(price=Decimal("20.00"), stock=5)
    fill_cart(shopper, (mug, 2), (tea, 1))
    voucher("MUGS").categories.add(mugs)

    cart = shopper_client.post(VOUCHER, {"code": "MUGS"}, format="json").json()

    assert [item["discount"] for item in cart["items"]] == ["2.00", "0.00"]
    assert cart["discount"] == "2.00"


# --- Cart, checkout and order agree ---------------------------------------------------


CASES = {
    # prices excluding tax, rounded per line: a sale, a category voucher and
    # shipping free above its threshold, together.
    "excluded-per-line": {"include": False, "rounding": "line"},
    "excluded-per-order": {"include": False, "rounding": "order"},
    "included-per-line": {"include": True, "rounding": "line"},
    "included-per-order": {"include": True, "rounding": "order"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_the_order_charges_what_the_cart_showed(
    case, shopper, shopper_client, uk, settings
):
    settings.PRICES_INCLUDE_TAX = CASES[case]["include"]
    settings.TAX_ROUNDING = CASES[case]["rounding"]
    mugs = CategoryFactory(slug="mugs")
    mug = ProductFactory(price=Decimal("12.99"), stock=9, category=mugs)
    book = ProductFactory(price=Decimal("7.45"), stock=9, tax_class="books")
    tea = ProductFactory(price=Decimal("3.33"), stock=9)
    catalog_services.save_sale(
        sale=Sale(
            name="Tea week",
            kind="percentage",
            value=Decimal("15"),
            starts_at=timezone.now() - timedelta(hours=1),
            ends_at=timezone.now() + timedelta(days=1),
        ),
        products=[tea],
    )
    fill_cart(shopper, (mug, 3), (book, 2), (tea, 5))
    voucher("MUGS15", value=Decimal("15")).categories.add(mugs)
    shopper_client.put(
        SHIPPING, {"country": "GB", "method": "royal-mail"}, format="json"
    )
    cart = shopper_client.post(VOUCHER, {"code": "MUGS15"}, format="json").json()
    extra = Decimal(cart["tax"]) if not cart["prices_include_tax"] else Decimal(0)
    assert Decimal(cart["subtotal"]) - Decimal(cart["discount"]) + Decimal(
        cart["shipping_cost"]
    ) + extra == Decimal(cart["total"])

    response = shopper_client.post(
        ORDERS,
        {"shipping_address": address(), "expected_total": cart["total"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    order = response.json()
    assert (
        order["subtotal"],
        order["discount_total"],
        order["shipping_cost"],
        order["tax_total"],
        order["total"],
        order["voucher"],
        order["prices_include_tax"],
    ) == (
        cart["subtotal"],
        cart["discount"],
        cart["shipping_cost"],
        cart["tax"],
        cart["total"],
        "MUGS15",
        CASES[case]["include"],
    )
    assert [(line["discount"], line["tax_rate"]) for line in order["items"]] == [
        (line["discount"], line["tax_rate"]) for line in cart["items"]
    ]
    saved = Order.objects.get()
    assert sum(item.tax for item in saved.items.all()) == saved.tax_total
    assert sum(item.discount for item in saved.items.all()) == saved.discount_total
    # The voucher was used once, and the cart let it go with its lines.
    assert Voucher.objects.get().used_count == 1
    assert shopper_client.get(CART).json()["voucher"] is None


@pytest.mark.django_db
def test_a_voucher_that_stopped_applying_is_a_price_change(shopper, shopper_client):
    fill_cart(shopper, (ProductFactory(price=Decimal("30.00"), stock=5), 1))
    code = voucher("SAVE10")
    shown = shopper_client.post(VOUCHER, {"code": "SAVE10"}, format="json").json()
    Voucher.objects.filter(pk=code.pk).update(ends_at=timezone.now())

    response = shopper_client.post(
        ORDERS,
        {"shipping_address": address(), "expected_total": shown["total"]},
        format="json",
    )

    problem = assert_problem(response, 409, "price_changed")
    assert (problem["total"], problem["discount_total"]) == ("35.00", "0.00")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_cancelling_an_order_gives_its_voucher_use_back(shopper):
    code = voucher("ONCE", usage_limit=1)
    fill_cart(shopper, (ProductFactory(price=Decimal("30.00"), stock=5), 1))
    cart_services.apply_voucher(
        cart=cart_services.get_user_cart(user=shopper), code="ONCE", user=shopper
    )
    order = services.place_order(user=shopper, shipping_address=address()).order
    code.refresh_from_db()
    assert (code.used_count, order.voucher_code) == (1, "ONCE")

    services.cancel_order(order=order, user=shopper)

    code.refresh_from_db()
    assert code.used_count == 0
    assert not VoucherUse.objects.exists()


# --- The last use, raced --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_checkouts_racing_for_the_last_use_give_it_to_exactly_one():
    code = voucher("LAST", usage_limit=1)
    product = ProductFactory(price=Decimal("10.00"), stock=100)
    buyers = UserFactory.create_batch(20)
    for buyer in buyers:
        fill_cart(buyer, (product, 1))
        cart_services.apply_voucher(
            cart=cart_services.get_user_cart(user=buyer), code="LAST", user=buyer
        )

    results = race(
        [
            lambda buyer=buyer: services.place_order(
                user=buyer, shipping_address=address()
            )
            for buyer in buyers
        ]
    )

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"PlacedOrder": 1, "VoucherExhausted": 19}
    code.refresh_from_db()
    assert code.used_count == 1
    assert Order.objects.filter(voucher_code="LAST").count() == 1
    assert Order.objects.count() == 1
    # The refused checkouts took nothing.
    assert Product.objects.get(pk=product.pk).stock == 99


@pytest.mark.django_db
def test_the_pages_show_the_same_total_from_cart_to_order(client, uk, settings):
    settings.STORE_COUNTRY = "GB"
    mug = ProductFactory(price=Decimal("12.99"), stock=9)
    voucher("SAVE10")
    customer = UserFactory()
    client.force_login(customer)
    client.post("/cart/add/", {"product": mug.pk, "quantity": 3})
    client.post("/cart/voucher/", {"code": "save10"})

    cart_page = client.get("/cart/").content.decode()
    checkout_page = client.get("/checkout/")
    response = client.post(
        "/checkout/", checkout_data(checkout_page, shipping_method="royal-mail")
    )

    order = Order.objects.get()
    # 38.97 - 3.90 + 4.95 Royal Mail + 20 % of 35.07 (7.01) = 47.03
    total = "47.03\N{NO-BREAK SPACE}USD"
    assert f'<dd class="total">{total}</dd>' in cart_page
    assert f'<dd class="total">{total}</dd>' in checkout_page.content.decode()
    assert response.status_code == 302
    assert (order.total, order.discount_total, order.tax_total) == (
        Decimal("47.03"),
        Decimal("3.90"),
        Decimal("7.01"),
    )
    order_page = client.get(order.get_absolute_url()).content.decode()
    assert f'<dd class="total">{total}</dd>' in order_page
    assert "Discount (SAVE10)" in order_page


@pytest.mark.django_db
def test_a_cart_reads_its_voucher_with_what_it_covers_in_one_statement(
    shopper, shopper_client, django_assert_num_queries
):
    mug = ProductFactory(price=Decimal("30.00"), stock=5)
    fill_cart(shopper, (mug, 1))
    voucher("SAVE10").products.add(mug)
    shopper_client.post(VOUCHER, {"code": "SAVE10"}, format="json")
    shopper_client.get(CART)

    # The cart and its lines, the pricing rules, the voucher with what it
    # covers (the client is authenticated without a query).
    with django_assert_num_queries(3):
        response = shopper_client.get(CART)

    assert (response.json()["voucher"], response.json()["discount"]) == (
        "SAVE10",
        "3.00",
    )
