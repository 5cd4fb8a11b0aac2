"""A shopper buys something in Chromium, finding every control by the
accessible name the contract gives it: browse, search, add to the cart as a
guest, register (the cart follows), check out, pay, and find the order in
the history; a declined card; a product that runs out; and the checkout on a
phone-width screen. Screenshots from 20 on."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from catalog import services as catalog_services
from catalog.tests.factories import variant_of
from orders.models import Order
from orders.tests.factories import OrderFactory
from pricing.models import TaxRate, Voucher
from pricing.tests.factories import method_data, shipping_zone

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def messages(page):
    return page.locator(".messages")


def header_cart(page):
    return page.get_by_role("link", name=re.compile(r"^Cart \(\d+\)$"))


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def fill_address(page):
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address line 1").fill("12 St James's Square")
    page.get_by_label("Address line 2").fill("Flat 3")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("SW1Y 4JH")
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("Phone").fill("+44 20 7946 0000")


def test_a_guest_buys_two_mugs_registers_pays_and_finds_the_order(
    page, screenshot, store
):
    page.goto("/")
    page.get_by_role("link", name="Browse all products").click()
    page.get_by_label("Search", exact=True).fill("mug 03")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("1 product matching “mug 03”")).to_be_visible()
    page.get_by_role("link", name="Mug 03").click()
    expect(page.get_by_role("heading", name="Mug 03", level=1)).to_be_visible()
    page.get_by_label("Quantity").fill("2")
    screenshot("20-journey-product")

    page.get_by_role("button", name="Add to cart").click()

    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(messages(page)).to_have_text(
        "Added 2 \N{MULTIPLICATION SIGN} Mug 03 to your cart."
    )
    expect(header_cart(page)).to_have_text("Cart (2)")
    line = page.get_by_role("listitem").filter(has_text="Mug 03")
    expect(line.get_by_label("Quantity")).to_have_value("2")
    expect(line.get_by_role("button", name="Update")).to_be_visible()
    expect(line.get_by_role("button", name="Remove")).to_be_visible()
    expect(page.get_by_text("Subtotal")).to_be_visible()
    summary = page.get_by_role("region", name="Summary")
    expect(summary).to_contain_text(
        "20.00\N{NO-BREAK SPACE}USD"
    )  # 2 \N{MULTIPLICATION SIGN} 10.00
    expect(summary).to_contain_text("25.00\N{NO-BREAK SPACE}USD")  # with shipping
    screenshot("21-journey-guest-cart")

    page.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="Register"
    ).click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill("analytical-engine-42")
    page.get_by_label("Password confirmation").fill("analytical-engine-42")
    screenshot("22-journey-register")
    page.get_by_role("button", name="Register").click()

    expect(messages(page)).to_contain_text("Welcome! Your account is ready.")
    expect(messages(page)).to_contain_text(
        "Your cart is now in your account: 2 \N{MULTIPLICATION SIGN} Mug 03 added."
    )
    expect(header_cart(page)).to_have_text("Cart (2)")
    screenshot("23-journey-registered-cart-merged")

    header_cart(page).click()
    expect(page.get_by_role("listitem").filter(has_text="Mug 03")).to_be_visible()
    page.get_by_role("link", name="Checkout").click()

    expect(page).to_have_url(re.compile(r"/checkout/$"))
    summary = page.get_by_role("region", name="Order summary")
    expect(summary).to_contain_text("2 \N{MULTIPLICATION SIGN} Mug 03")
    expect(summary).to_contain_text("25.00\N{NO-BREAK SPACE}USD")
    fill_address(page)
    screenshot("24-journey-checkout")
    page.get_by_role("button", name="Place order").click()

    order = Order.objects.get()
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    expect(messages(page)).to_contain_text(f"Your order {order.number} is placed.")
    expect(page.get_by_text("Pending payment").first).to_be_visible()
    expect(header_cart(page)).to_have_text("Cart (0)")
    screenshot("25-journey-order-placed")

    page.get_by_label("Card number").fill(APPROVED_CARD)
    page.get_by_role("button", name="Pay now").click()

    expect(messages(page)).to_have_text(
        f"Thank you! Your payment is received: {order.number} is paid."
    )
    expect(page.locator(".order-status")).to_contain_text("Paid")
    expect(page.get_by_role("button", name="Pay now")).to_have_count(0)
    screenshot("26-journey-paid")

    page.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="Orders"
    ).click()
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=order.number)
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("25.00\N{NO-BREAK SPACE}USD")
    screenshot("27-journey-order-history")
    row.get_by_role("link", name=order.number).click()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()


def test_a_declined_card_leaves_the_order_waiting_for_another_card(
    page, screenshot, store
):
    user = UserFactory(email="ada@example.com")
    order = OrderFactory(user=user, lines=[(store["rake"], 1)])
    log_in(page, user)
    page.goto(f"/orders/{order.number}/")

    page.get_by_label("Card number").fill(DECLINED_CARD)
    page.get_by_role("button", name="Pay now").click()

    expect(messages(page)).to_have_text(
        "Payment declined: The card was declined. Nothing was charged, and "
        f"order {order.number} is still waiting for payment."
    )
    expect(page.locator(".order-status")).to_contain_text("Pending payment")
    expect(page.get_by_label("Card number")).to_be_empty()
    screenshot("28-declined-card")

    page.get_by_label("Card number").fill("4242 4242 4242 4241")
    page.get_by_role("button", name="Pay now").click()

    expect(
        page.get_by_text("Enter a valid card number (12 to 19 digits).")
    ).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_value("4242 4242 4242 4241")
    screenshot("29-invalid-card-number")

    page.get_by_label("Card number").fill(APPROVED_CARD)
    page.get_by_role("button", name="Pay now").click()

    expect(page.locator(".order-status")).to_contain_text("Paid")


def test_a_product_that_runs_out_is_named_at_checkout(page, screenshot, store):
    user = UserFactory(email="ada@example.com")
    log_in(page, user)
    page.goto("/products/cast-iron-pan/")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.goto("/products/bamboo-rake/")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Checkout").click()
    fill_address(page)
    # Someone else buys the last pans while this shopper types.
    catalog_services.set_stock(variant=variant_of(store["cast-iron"]), stock=0)

    page.get_by_role("button", name="Place order").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cast-iron pan is out of stock.")
    expect(alert).to_contain_text("Nothing was ordered.")
    expect(page.get_by_label("Full name")).to_have_value("Ada Lovelace")
    screenshot("30-checkout-out-of-stock")
    assert Order.objects.count() == 0

    alert.get_by_role("link", name="Change your cart").click()
    line = page.get_by_role("listitem").filter(has_text="Cast-iron pan")
    expect(line).to_contain_text("Out of stock: remove it to check out.")
    screenshot("31-cart-out-of-stock")
    line.get_by_role("button", name="Remove").click()

    expect(messages(page)).to_have_text("Removed Cast-iron pan from your cart.")
    page.get_by_role("link", name="Checkout").click()
    fill_address(page)
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Order SW-"))).to_be_visible()


def test_an_out_of_stock_product_cannot_be_added(page, store):
    page.goto("/products/copper-pan/")

    expect(page.get_by_text("Out of stock", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Add to cart")).to_be_disabled()


def test_quantities_above_the_stock_are_refused_beside_the_field(
    page, screenshot, store
):
    page.goto("/products/cast-iron-pan/")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    page.goto("/products/cast-iron-pan/")
    page.get_by_label("Quantity").fill("1")

    page.get_by_role("button", name="Add to cart").click()

    expect(page.get_by_label("Quantity")).to_have_value("1")
    expect(page.get_by_label("Quantity")).to_have_attribute("aria-invalid", "true")
    expect(
        page.get_by_text(
            "Only 3 of Cast-iron pan in stock, and your cart already holds 3."
        )
    ).to_be_visible()
    screenshot("32-add-above-stock")


def test_checkout_on_a_phone_width_screen(page, screenshot, store):
    page.set_viewport_size(PHONE)
    user = UserFactory(email="ada@example.com")
    log_in(page, user)
    page.goto("/products/mug-01/")
    page.get_by_role("button", name="Add to cart").click()

    # Each width is read once the next page has come: read during the
    # navigation, the document may have no root element yet.
    fits = []
    for name in ("cart", "checkout"):
        if name == "checkout":
            page.get_by_role("link", name="Checkout").click()
        expect(page).to_have_url(re.compile(rf"/{name}/$"))
        fits.append(page.evaluate("document.documentElement.scrollWidth"))
        screenshot(f"33-phone-{name}")
    fill_address(page)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[A-Z0-9-]+/$"))
    fits.append(page.evaluate("document.documentElement.scrollWidth"))
    screenshot("34-phone-order")
    page.get_by_label("Card number").fill(APPROVED_CARD)
    page.get_by_role("button", name="Pay now").click()

    expect(page.locator(".order-status")).to_contain_text("Paid")
    page.goto("/account/orders/")
    fits.append(page.evaluate("document.documentElement.scrollWidth"))
    screenshot("35-phone-order-history")
    # The address form's country list holds long names.
    page.goto("/account/addresses/new/")
    fits.append(page.evaluate("document.documentElement.scrollWidth"))
    screenshot("38-phone-address-form")
    assert fits == [PHONE["width"]] * 5


def test_a_customer_keeps_addresses_and_checks_out_to_a_saved_one(
    page, screenshot, store
):
    user = UserFactory(email="ada@example.com")
    log_in(page, user)
    page.goto("/account/")
    page.get_by_role("link", name="Your addresses").click()
    page.get_by_role("link", name="Add an address").click()
    fill_address(page)
    page.get_by_label("Postal code").fill("12345")  # not a British one
    page.get_by_role("button", name="Save address").click()

    expect(page.locator("#id_postal_code_error")).to_contain_text(
        "Enter a postal code of United Kingdom"
    )
    page.get_by_label("Postal code").fill("SW1Y 4JH")
    page.get_by_role("button", name="Save address").click()
    expect(messages(page)).to_have_text("The address is in your address book.")
    expect(page.get_by_text("Default shipping address")).to_be_visible()
    screenshot("36-address-book")

    page.goto("/products/mug-01/")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Checkout").click()
    saved = page.get_by_role("radio", name=re.compile(r"^Ada Lovelace, 12 St James"))
    expect(saved).to_be_checked()
    screenshot("37-checkout-saved-address")
    page.get_by_role("button", name="Place order").click()

    expect(page).to_have_url(re.compile(r"/orders/[A-Z0-9-]+/$"))
    assert Order.objects.get().shipping_address["postal_code"] == "SW1Y 4JH"


def test_a_customer_chooses_a_shipping_method_and_pays_for_it(page, screenshot, store):
    shipping_zone(
        "UK",
        ["GB"],
        [
            method_data("royal-mail", name="Royal Mail", price=Decimal("3.50")),
            method_data("courier", price=Decimal("9.00"), estimated_days=1),
        ],
    )
    log_in(page, UserFactory(email="ada@example.com"))
    page.goto("/products/mug-01/")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Checkout").click()
    fill_address(page)
    # The page priced for the store's country (no method ships there): the
    # UK address brings the UK's methods, with the address kept.
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Choose how to ship to United Kingdom")).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^Courier: 9\.00")).check()
    screenshot("39-checkout-shipping-method")
    page.get_by_role("button", name="Place order").click()

    expect(page).to_have_url(re.compile(r"/orders/[A-Z0-9-]+/$"))
    expect(page.get_by_text("Shipping (Courier)")).to_be_visible()
    order = Order.objects.get()
    assert (order.shipping_method_code, order.shipping_cost) == (
        "courier",
        Decimal("9.00"),
    )


def test_a_guest_buys_with_a_voucher_a_shipping_method_and_tax(
    page, screenshot, store, settings
):
    settings.STORE_COUNTRY = "GB"
    shipping_zone(
        "UK",
        ["GB"],
        [
            method_data("royal-mail", name="Royal Mail", price=Decimal("3.50")),
            method_data("courier", price=Decimal("9.00"), estimated_days=1),
        ],
    )
    TaxRate.objects.create(country="GB", rate=Decimal("20.00"))
    Voucher.objects.create(code="WELCOME10", kind="percentage", value=Decimal("10"))
    page.goto("/products/mug-01/")
    page.get_by_role("button", name="Add to cart").click()

    page.get_by_label("Voucher code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()

    expect(messages(page)).to_have_text("Voucher applied.")
    summary = page.get_by_role("region", name="Summary")
    # 8.00 - 0.80 off + 3.50 Royal Mail + 20 % tax on 7.20 (1.44).
    expect(summary).to_contain_text("Discount (WELCOME10)")
    expect(summary).to_contain_text("Tax (20\N{NO-BREAK SPACE}%)")
    expect(summary).to_contain_text("12.14\N{NO-BREAK SPACE}USD")
    screenshot("40-guest-cart-voucher")
    page.get_by_role("link", name="Checkout").click()

    page.get_by_label("E-mail address").fill("guest@example.com")
    fill_address(page)
    page.get_by_role("radio", name=re.compile(r"^Royal Mail: 3\.50")).check()
    order_summary = page.get_by_role("region", name="Order summary")
    expect(order_summary).to_contain_text("12.14\N{NO-BREAK SPACE}USD")
    screenshot("41-guest-checkout")
    page.get_by_role("button", name="Place order").click()

    order = Order.objects.get()
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/\?token="))
    expect(page.get_by_text("Placed as a guest with guest@example.com")).to_be_visible()
    assert (order.user, order.voucher_code, order.total, order.tax_total) == (
        None,
        "WELCOME10",
        Decimal("12.14"),
        Decimal("1.44"),
    )
    page.get_by_label("Card number").fill(APPROVED_CARD)
    page.get_by_role("button", name="Pay now").click()
    expect(messages(page)).to_contain_text(f"{order.number} is paid")
    screenshot("42-guest-order-paid")
