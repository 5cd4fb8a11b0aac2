"""Sale prices: windows at their edges, what a sale covers, and the "from" price."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from accounts.tests.factories import StaffFactory, UserFactory
from carts.queries import user_cart_representation
from catalog import cache, services
from catalog.models import Product, ProductVariant, Sale, SalePriceState
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SaleFactory,
    SizedProductFactory,
    variant_of,
)
from orders import services as order_services
from orders.tests.factories import address, fill_cart

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
# Far enough ahead for the reads before it to come first on a busy machine.
SOON = timedelta(seconds=2)
SECOND = timedelta(seconds=1)


def make_sale(*, value="20", starts=None, ends=None, **fields):
    window = {"starts_at": starts, "ends_at": ends}
    return SaleFactory(
        value=Decimal(value),
        **{name: moment for name, moment in window.items() if moment},
        **fields,
    )


def sale_price(variant):
    return ProductVariant.objects.get(pk=variant.pk).sale_price


def from_price(product):
    return Product.objects.get(pk=product.pk).price


def test_a_percentage_sale_on_a_product_lowers_every_variant_and_the_from_price():
    product = SizedProductFactory()  # S 12.00, M 10.00, L 14.00
    make_sale(value="25", products=[product])
    prices = dict(product.variants.values_list("options__Size", "sale_price"))
    assert prices == {"S": Decimal("9.00"), "M": Decimal("7.50"), "L": Decimal("10.50")}
    assert from_price(product) == Decimal("7.50")


def test_percentages_round_half_up_to_the_cent():
    product = ProductFactory(price=Decimal("0.15"))
    make_sale(value="50", products=[product])  # 0.075 -> 0.08
    assert sale_price(variant_of(product)) == Decimal("0.08")


def test_a_fixed_amount_never_takes_a_price_below_one_cent():
    cheap = ProductFactory(price=Decimal("3.00"))
    dear = ProductFactory(price=Decimal("30.00"))
    make_sale(kind=Sale.Kind.FIXED, value="5", products=[cheap, dear])
    assert sale_price(variant_of(cheap)) == Decimal("0.01")
    assert sale_price(variant_of(dear)) == Decimal("25.00")


def test_a_sale_on_one_variant_leaves_the_others_alone():
    product = SizedProductFactory()
    large = product.variants.get(options__Size="L")
    make_sale(value="50", variants=[large])
    assert sale_price(large) == Decimal("7.00")
    assert set(
        product.variants.exclude(pk=large.pk).values_list("sale_price", flat=True)
    ) == {None}
    assert from_price(product) == Decimal("7.00")


def test_a_category_sale_covers_its_subcategories():
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    inside = ProductFactory(category=child, price=Decimal("10.00"))
    outside = ProductFactory(price=Decimal("10.00"))
    make_sale(value="10", categories=[parent])
    assert sale_price(variant_of(inside)) == Decimal("9.00")
    assert sale_price(variant_of(outside)) is None


def test_the_lowest_price_of_overlapping_sales_wins_and_they_do_not_add_up():
    product = ProductFactory(price=Decimal("100.00"))
    make_sale(value="10", products=[product])
    make_sale(kind=Sale.Kind.FIXED, value="15", categories=[product.category])
    assert sale_price(variant_of(product)) == Decimal("85.00")


def test_the_window_at_its_edges():
    product = ProductFactory(price=Decimal("10.00"))
    starts = timezone.now() + HOUR
    ends = starts + HOUR
    make_sale(value="50", starts=starts, ends=ends, products=[product])
    variant = variant_of(product)

    assert services.ensure_sale_prices(now=starts - SECOND) == starts
    assert sale_price(variant) is None
    assert from_price(product) == Decimal("10.00")

    assert services.ensure_sale_prices(now=starts) == ends
    assert sale_price(variant) == Decimal("5.00")
    assert from_price(product) == Decimal("5.00")

    assert services.ensure_sale_prices(now=ends - SECOND) == ends
    assert sale_price(variant) == Decimal("5.00")

    assert services.ensure_sale_prices(now=ends) is None
    assert sale_price(variant) is None
    assert from_price(product) == Decimal("10.00")


def test_prices_are_not_written_again_before_the_next_change(django_assert_num_queries):
    product = ProductFactory()
    make_sale(starts=timezone.now() + HOUR, products=[product])
    with django_assert_num_queries(1):
        services.ensure_sale_prices()


def test_switching_a_sale_off_ends_its_prices_at_once():
    product = ProductFactory(price=Decimal("10.00"))
    sale = make_sale(value="50", products=[product])
    sale.is_active = False
    services.save_sale(sale=sale)
    assert sale_price(variant_of(product)) is None
    assert from_price(product) == Decimal("10.00")


def test_deleting_a_sale_ends_its_prices():
    product = ProductFactory(price=Decimal("10.00"))
    sale = make_sale(value="50", products=[product])
    services.delete_sale(sale=sale)
    assert sale_price(variant_of(product)) is None


def test_a_price_change_during_a_sale_gets_its_sale_price_at_once():
    product = ProductFactory(price=Decimal("10.00"))
    make_sale(value="50", products=[product])
    services.update_variant(variant=variant_of(product), price=Decimal("20.00"))
    assert sale_price(variant_of(product)) == Decimal("10.00")
    assert from_price(product) == Decimal("10.00")


def test_a_product_added_to_a_category_on_sale_is_on_sale():
    category = CategoryFactory()
    make_sale(value="50", categories=[category])
    product = ProductFactory(category=category, price=Decimal("10.00"))
    assert sale_price(variant_of(product)) == Decimal("5.00")


def test_a_flushed_state_row_is_made_again():
    SalePriceState.objects.all().delete()
    assert services.ensure_sale_prices() is None
    assert SalePriceState.objects.filter(pk=1).exists()


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        (Sale.Kind.PERCENTAGE, "100", "value"),
        (Sale.Kind.PERCENTAGE, "0", "value"),
        (Sale.Kind.FIXED, "-1", "value"),
    ],
)
def test_a_sale_value_out_of_range_is_refused(kind, value, field):
    with pytest.raises(ValidationError) as refused:
        make_sale(kind=kind, value=value)
    assert field in refused.value.message_dict


def test_a_sale_that_ends_before_it_starts_is_refused():
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        make_sale(starts=now, ends=now - SECOND)
    assert "ends_at" in refused.value.message_dict


def test_the_database_refuses_a_bad_window_from_anywhere():
    now = timezone.now()
    with pytest.raises(IntegrityError):
        Sale.objects.create(
            name="x", kind=Sale.Kind.FIXED, value=1, starts_at=now, ends_at=now
        )


def test_a_product_moved_into_a_category_on_sale_is_on_sale():
    on_sale = CategoryFactory()
    make_sale(value="50", categories=[on_sale])
    product = ProductFactory(price=Decimal("10.00"))
    services.update_product(product=product, category=on_sale)
    assert sale_price(variant_of(product)) == Decimal("5.00")


def test_a_category_moved_under_one_on_sale_is_on_sale_from_the_next_read():
    on_sale = CategoryFactory()
    make_sale(value="50", categories=[on_sale])
    moved = CategoryFactory()
    product = ProductFactory(category=moved, price=Decimal("10.00"))
    moved.parent = on_sale
    moved.save()
    services.ensure_sale_prices()
    assert sale_price(variant_of(product)) == Decimal("5.00")
    assert from_price(product) == Decimal("5.00")


# --- In the admin -------------------------------------------------------------

SALES_ADMIN = "/admin/catalog/sale/"


@pytest.fixture
def sales_staff_client(client):
    staff = StaffFactory()
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog")
    )
    client.force_login(staff)
    return client


def sale_form(**changes):
    now = timezone.localtime()
    form = {
        "name": "Spring sale",
        "kind": Sale.Kind.PERCENTAGE,
        "value": "50",
        "starts_at_0": (now - HOUR).strftime("%Y-%m-%d"),
        "starts_at_1": (now - HOUR).strftime("%H:%M:%S"),
        "ends_at_0": (now + HOUR).strftime("%Y-%m-%d"),
        "ends_at_1": (now + HOUR).strftime("%H:%M:%S"),
        "is_active": "on",
    }
    form.update(changes)
    return form


def test_staff_put_a_product_on_sale_in_the_admin(sales_staff_client):
    product = ProductFactory(price=Decimal("10.00"))

    response = sales_staff_client.post(
        f"{SALES_ADMIN}add/", sale_form(products=[product.pk])
    )

    assert response.status_code == 302
    assert sale_price(variant_of(product)) == Decimal("5.00")
    assert from_price(product) == Decimal("5.00")
    assert sales_staff_client.get(SALES_ADMIN).status_code == 200


def test_the_admin_shows_a_bad_value_beside_its_field(sales_staff_client):
    response = sales_staff_client.post(f"{SALES_ADMIN}add/", sale_form(value="150"))

    assert response.status_code == 200
    assert "value" in response.context["adminform"].form.errors
    assert not Sale.objects.exists()


def test_deleting_a_sale_in_the_admin_ends_its_prices(sales_staff_client):
    product = ProductFactory(price=Decimal("10.00"))
    sale = make_sale(value="50", products=[product])

    response = sales_staff_client.post(
        f"{SALES_ADMIN}{sale.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert sale_price(variant_of(product)) is None


# --- The cache ------------------------------------------------------------------


def test_a_cached_entry_is_not_kept_past_the_next_price_change():
    found = cache.read("test:sale-window", ())
    until = timezone.now() + SOON
    cache.store(found, "before", until=until)
    assert cache.read("test:sale-window", ()).value == "before"
    time.sleep((until - timezone.now()).total_seconds() + 0.05)
    assert cache.read("test:sale-window", ()).value is None


def test_an_entry_whose_prices_already_changed_is_not_stored():
    found = cache.read("test:sale-past", ())
    cache.store(found, "stale", until=timezone.now() - SECOND)
    assert cache.read("test:sale-past", ()).value is None


def test_a_miss_brings_the_sale_prices_up_to_date_before_building(
    django_capture_on_commit_callbacks,
):
    product = ProductFactory(price=Decimal("10.00"))
    starts = timezone.now() + timedelta(milliseconds=200)
    make_sale(value="50", starts=starts, products=[product])
    time.sleep(0.3)

    with django_capture_on_commit_callbacks(execute=True):
        built = cache.cached(
            "test:sale-build",
            (),
            lambda: str(from_price(product)),
            valid_until=services.ensure_sale_prices,
        )

    assert built == "5.00"


# --- Through the API ----------------------------------------------------------------

PRODUCTS = "/api/v1/products/"


def listed(api_client, **params):
    response = api_client.get(PRODUCTS, params)
    assert response.status_code == 200, response.content
    return {item["sku"]: item["price"] for item in response.json()["results"]}


def test_the_list_shows_and_filters_by_the_price_paid_during_a_sale(api_client):
    on_sale = ProductFactory(sku="ON-SALE", price=Decimal("10.00"))
    ProductFactory(sku="FULL-PRICE", price=Decimal("8.00"))
    make_sale(value="50", products=[on_sale])

    assert listed(api_client) == {"ON-SALE": "5.00", "FULL-PRICE": "8.00"}
    assert listed(api_client, max_price="6") == {"ON-SALE": "5.00"}
    assert list(listed(api_client, ordering="price")) == ["ON-SALE", "FULL-PRICE"]


def test_on_sale_filters_the_list(api_client):
    on_sale = ProductFactory(sku="ON-SALE")
    ProductFactory(sku="FULL-PRICE")
    make_sale(products=[on_sale])

    assert set(listed(api_client, on_sale="true")) == {"ON-SALE"}
    assert set(listed(api_client, on_sale="false")) == {"FULL-PRICE"}


def test_a_bad_on_sale_value_is_a_400_naming_it(api_client):
    response = api_client.get(PRODUCTS, {"on_sale": "maybe"})

    assert response.status_code == 400
    assert "on_sale" in response.json()["errors"]


def test_a_cached_list_is_not_served_past_a_sale_start(api_client):
    product = ProductFactory(sku="SOON", price=Decimal("10.00"))
    starts = timezone.now() + SOON
    make_sale(value="50", starts=starts, products=[product])

    assert listed(api_client) == {"SOON": "10.00"}
    assert listed(api_client) == {"SOON": "10.00"}  # from the cache
    time.sleep(max(0, (starts - timezone.now()).total_seconds()) + 0.05)
    assert listed(api_client) == {"SOON": "5.00"}


def test_a_cached_product_page_is_not_served_past_a_sale_end(client):
    product = ProductFactory(price=Decimal("10.00"))
    ends = timezone.now() + SOON
    make_sale(value="50", ends=ends, products=[product])

    assert "5.00" in client.get(product.get_absolute_url()).content.decode()
    time.sleep(max(0, (ends - timezone.now()).total_seconds()) + 0.05)
    page = client.get(product.get_absolute_url()).content.decode()
    assert "5.00" not in page
    assert "10.00" in page


# --- The cart and the checkout agree with the list ----------------------------------


def test_the_cart_and_the_order_charge_the_sale_price(
    django_capture_on_commit_callbacks,
):

    user = UserFactory()
    product = ProductFactory(price=Decimal("10.00"))
    make_sale(value="25", products=[product])
    fill_cart(user, (product, 2))

    cart = user_cart_representation(user)
    assert (cart["items"][0]["unit_price"], cart["subtotal"]) == ("7.50", "15.00")

    placed = order_services.place_order(
        user=user, shipping_address=address(), expected_total=Decimal("20.00")
    )
    item = placed.order.items.get()
    assert (item.unit_price, item.line_total) == (Decimal("7.50"), Decimal("15.00"))


def test_a_cart_read_after_a_sale_ends_shows_the_full_price():
    from orders.tests.factories import fill_cart

    user = UserFactory()
    product = ProductFactory(price=Decimal("10.00"))
    ends = timezone.now() + SOON
    make_sale(value="50", ends=ends, products=[product])
    fill_cart(user, (product, 1))
    assert user_cart_representation(user)["subtotal"] == "5.00"

    time.sleep(max(0, (ends - timezone.now()).total_seconds()) + 0.05)

    assert user_cart_representation(user)["subtotal"] == "10.00"


def test_a_checkout_a_second_after_the_sale_ends_charges_the_full_price():

    user = UserFactory()
    product = ProductFactory(price=Decimal("10.00"))
    ends = timezone.now() + timedelta(milliseconds=300)
    make_sale(value="50", ends=ends, products=[product])
    fill_cart(user, (product, 1))

    time.sleep(max(0, (ends - timezone.now()).total_seconds()) + 0.05)
    placed = order_services.place_order(user=user, shipping_address=address())

    assert placed.order.items.get().unit_price == Decimal("10.00")


def test_a_variant_shows_its_was_price_during_a_sale(api_client):
    product = ProductFactory(sku="WAS", price=Decimal("10.00"))
    make_sale(value="50", products=[product])

    answer = api_client.get(f"{PRODUCTS}{product.slug}/").json()

    assert (answer["price"], answer["compare_at_price"]) == ("5.00", "10.00")
    variant = answer["variants"][0]
    assert (variant["price"], variant["compare_at_price"]) == ("5.00", "10.00")
