from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from carts import services
from carts.models import Cart, CartItem
from carts.services import DroppedLine, MergedLine, MergeResult
from carts.tests.factories import CartFactory, CartItemFactory
from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock, Shortage
from catalog.tests.factories import ProductFactory, variant_of
from core.testing import race

pytestmark = pytest.mark.django_db


def lines_of(cart):
    return list(
        cart.items.order_by("pk").values_list("variant__product_id", "quantity")
    )


# --- Finding carts ---------------------------------------------------------------


def test_get_user_cart_creates_one_empty_cart_and_then_returns_it():
    user = UserFactory()

    first = services.get_user_cart(user=user)
    second = services.get_user_cart(user=user)

    assert first == second
    assert first.user == user
    assert Cart.objects.count() == 1
    assert lines_of(first) == []


def test_create_session_cart_makes_an_empty_anonymous_cart():
    cart = services.create_session_cart()

    assert cart.user is None
    assert lines_of(cart) == []


def test_get_session_cart_finds_an_anonymous_cart_by_id_or_string_id():
    cart = CartFactory(user=None)

    assert services.get_session_cart(cart_id=cart.pk) == cart
    assert services.get_session_cart(cart_id=str(cart.pk)) == cart


@pytest.mark.parametrize("cart_id", [None, "", "abc", True, 1.5j, 10**30])
def test_get_session_cart_returns_none_for_an_odd_session_value(cart_id):
    CartFactory(user=None)

    assert services.get_session_cart(cart_id=cart_id) is None


def test_get_session_cart_never_returns_an_account_cart():
    account_cart = CartFactory()

    assert services.get_session_cart(cart_id=account_cart.pk) is None


def test_get_session_cart_returns_none_for_a_deleted_cart():
    cart = CartFactory(user=None)
    cart_id = cart.pk
    cart.delete()

    assert services.get_session_cart(cart_id=cart_id) is None


# --- add_item ------------------------------------------------------------------------


def test_add_item_creates_a_line_and_touches_the_cart():
    cart = CartFactory()
    before = cart.updated_at
    product = ProductFactory(stock=5)

    item = services.add_item(cart=cart, variant=variant_of(product), quantity=2)

    assert (item.product, item.quantity) == (product, 2)
    assert lines_of(cart) == [(product.pk, 2)]
    cart.refresh_from_db()
    assert cart.updated_at > before


def test_add_item_adds_the_same_product_to_its_existing_line():
    cart = CartFactory()
    product = ProductFactory(stock=5)
    services.add_item(cart=cart, variant=variant_of(product), quantity=2)

    item = services.add_item(cart=cart, variant=variant_of(product), quantity=3)

    assert item.quantity == 5
    assert lines_of(cart) == [(product.pk, 5)]


def test_add_item_checks_the_whole_line_against_the_stock_on_hand():
    cart = CartFactory()
    product = ProductFactory(stock=5, sku="MUG-1")
    services.add_item(cart=cart, variant=variant_of(product), quantity=3)

    with pytest.raises(InsufficientStock) as refused:
        services.add_item(cart=cart, variant=variant_of(product), quantity=3)

    assert refused.value.shortages == [
        Shortage(product.pk, "MUG-1", 6, 5, variant_id=variant_of(product).pk)
    ]
    assert refused.value.detail == "Only 5 of MUG-1 in stock; 6 requested."
    assert lines_of(cart) == [(product.pk, 3)]


def test_add_item_accepts_exactly_the_stock_on_hand():
    cart = CartFactory()
    product = ProductFactory(stock=4)

    item = services.add_item(cart=cart, variant=variant_of(product), quantity=4)

    assert item.quantity == 4


def test_add_item_reads_the_stock_afresh_not_from_the_callers_product():
    cart = CartFactory()
    product = ProductFactory(stock=5)
    catalog_services.take_stock(lines=[(variant_of(product).pk, 4)])

    # `product` still says 5 in memory; 1 unit is left.
    with pytest.raises(InsufficientStock) as refused:
        services.add_item(cart=cart, variant=variant_of(product), quantity=2)

    assert refused.value.available == 1


def test_add_item_refuses_a_product_out_of_stock():
    cart = CartFactory()
    product = ProductFactory(stock=0)

    with pytest.raises(InsufficientStock) as refused:
        services.add_item(cart=cart, variant=variant_of(product), quantity=1)

    assert refused.value.available == 0
    assert lines_of(cart) == []


def test_add_item_refuses_an_inactive_product():
    cart = CartFactory()
    product = ProductFactory(is_active=False)

    with pytest.raises(ValidationError) as refused:
        services.add_item(cart=cart, variant=variant_of(product), quantity=1)

    assert refused.value.message_dict == {"product": ["This product is not for sale."]}
    assert lines_of(cart) == []


def test_add_item_refuses_a_product_deactivated_since_it_was_loaded():
    cart = CartFactory()
    product = ProductFactory()
    catalog_services.update_product(
        product=catalog_services.Product.objects.get(pk=product.pk), is_active=False
    )

    with pytest.raises(ValidationError) as refused:
        services.add_item(cart=cart, variant=variant_of(product), quantity=1)

    assert list(refused.value.message_dict) == ["product"]


@pytest.mark.parametrize("quantity", [0, -1, True, 2.5, 2.0, "2", None])
def test_add_item_refuses_a_quantity_that_is_not_a_whole_number_from_one(quantity):
    cart = CartFactory()

    with pytest.raises(ValidationError) as refused:
        services.add_item(
            cart=cart, variant=variant_of(ProductFactory()), quantity=quantity
        )

    assert refused.value.message_dict == {
        "quantity": ["Enter a whole number of at least 1."]
    }
    assert lines_of(cart) == []


def test_add_item_refuses_a_line_above_one_thousand_units():
    cart = CartFactory()
    product = ProductFactory(stock=5000)
    services.add_item(cart=cart, variant=variant_of(product), quantity=999)

    with pytest.raises(ValidationError) as refused:
        services.add_item(cart=cart, variant=variant_of(product), quantity=2)

    assert refused.value.message_dict == {
        "quantity": [
            "A cart holds at most 1000 of one product; this line would hold 1001."
        ]
    }
    assert lines_of(cart) == [(product.pk, 999)]


def test_add_item_accepts_a_line_of_exactly_one_thousand_units():
    cart = CartFactory()
    product = ProductFactory(stock=5000)

    item = services.add_item(cart=cart, variant=variant_of(product), quantity=1000)

    assert item.quantity == 1000


# --- set_item_quantity, remove_item, clear_cart ---------------------------------------


def test_set_item_quantity_replaces_the_lines_quantity():
    item = CartItemFactory(quantity=2, product=ProductFactory(stock=10))

    changed = services.set_item_quantity(item=item, quantity=7)

    assert changed.quantity == 7
    item.refresh_from_db()
    assert item.quantity == 7


def test_set_item_quantity_may_lower_a_line_the_stock_no_longer_covers():
    product = ProductFactory(stock=10)
    item = CartItemFactory(quantity=8, product=product)
    catalog_services.take_stock(lines=[(variant_of(product).pk, 7)])

    changed = services.set_item_quantity(item=item, quantity=3)

    assert changed.quantity == 3


def test_set_item_quantity_refuses_more_than_the_stock_on_hand():
    item = CartItemFactory(quantity=2, product=ProductFactory(stock=4, sku="TEA"))

    with pytest.raises(InsufficientStock) as refused:
        services.set_item_quantity(item=item, quantity=5)

    assert refused.value.shortages == [
        Shortage(item.product.pk, "TEA", 5, 4, variant_id=item.variant_id)
    ]
    item.refresh_from_db()
    assert item.quantity == 2


def test_set_item_quantity_refuses_an_inactive_product():
    item = CartItemFactory(product=ProductFactory(is_active=False))

    with pytest.raises(ValidationError) as refused:
        services.set_item_quantity(item=item, quantity=1)

    assert list(refused.value.message_dict) == ["product"]


@pytest.mark.parametrize("quantity", [0, -3, False, 1.5, 1001])
def test_set_item_quantity_refuses_a_quantity_out_of_bounds(quantity):
    item = CartItemFactory(quantity=2, product=ProductFactory(stock=5000))

    with pytest.raises(ValidationError) as refused:
        services.set_item_quantity(item=item, quantity=quantity)

    assert list(refused.value.message_dict) == ["quantity"]
    item.refresh_from_db()
    assert item.quantity == 2


def test_set_item_quantity_of_a_removed_line_raises_does_not_exist():
    item = CartItemFactory()
    services.remove_item(item=CartItem.objects.get(pk=item.pk))

    with pytest.raises(CartItem.DoesNotExist):
        services.set_item_quantity(item=item, quantity=1)


def test_remove_item_removes_only_that_line():
    cart = CartFactory()
    kept, removed = CartItemFactory(cart=cart), CartItemFactory(cart=cart)

    services.remove_item(item=removed)

    assert lines_of(cart) == [(kept.variant.product_id, 1)]


def test_clear_cart_removes_every_line_and_keeps_the_cart():
    cart = CartFactory()
    CartItemFactory.create_batch(3, cart=cart)
    other = CartItemFactory()

    services.clear_cart(cart=cart)

    assert lines_of(cart) == []
    assert Cart.objects.filter(pk=cart.pk).exists()
    assert lines_of(other.cart) == [(other.variant.product_id, 1)]


def test_clear_cart_inside_a_transaction_costs_two_statements_and_touches_the_cart(
    django_assert_num_queries,
):
    cart = CartFactory()
    CartItemFactory.create_batch(2, cart=cart)
    before = cart.updated_at

    # No savepoint inside the caller's transaction: the cart's row updated
    # (and so locked), then its lines deleted.
    with django_assert_num_queries(2):
        services.clear_cart(cart=cart)

    cart.refresh_from_db()
    assert lines_of(cart) == []
    assert cart.updated_at > before


# --- Checkout ------------------------------------------------------------------------


def test_lock_lines_for_checkout_marks_the_cart_and_gives_its_lines_by_product(
    django_assert_num_queries,
):
    cart = CartFactory()
    tea, mug = ProductFactory(), ProductFactory()
    mug_line = CartItemFactory(cart=cart, product=mug, quantity=2)
    tea_line = CartItemFactory(cart=cart, product=tea, quantity=3)
    CartItemFactory(cart=CartFactory())
    before = cart.updated_at

    # The cart's row updated (and so locked), then its lines read and locked.
    with django_assert_num_queries(2):
        locked = services.lock_lines_for_checkout(user=cart.user)

    assert locked == services.CheckoutCart(
        lines=[
            services.CheckoutLine(
                item_id=tea_line.pk, variant_id=tea_line.variant_id, quantity=3
            ),
            services.CheckoutLine(
                item_id=mug_line.pk, variant_id=mug_line.variant_id, quantity=2
            ),
        ],
        cart_id=cart.pk,
        email=cart.user.email,
    )
    cart.refresh_from_db()
    assert cart.updated_at > before


def test_lock_lines_for_checkout_finds_no_lines_in_an_empty_cart():
    cart = CartFactory()

    assert services.lock_lines_for_checkout(user=cart.user).lines == []


def test_lock_lines_for_checkout_finds_no_cart_in_one_statement(
    django_assert_num_queries,
):
    user = UserFactory()

    with django_assert_num_queries(1):
        locked = services.lock_lines_for_checkout(user=user)

    assert locked.lines == []
    assert not Cart.objects.exists()


def test_finish_checkout_deletes_those_lines_only(django_assert_num_queries):
    cart = CartFactory()
    CartItemFactory.create_batch(2, cart=cart)
    other = CartItemFactory(cart=CartFactory())
    locked = services.lock_lines_for_checkout(user=cart.user)

    with django_assert_num_queries(1):
        services.finish_checkout(cart=locked)

    assert lines_of(cart) == []
    assert lines_of(other.cart) == [(other.variant.product_id, 1)]


# --- Totals and warnings ------------------------------------------------------------


def test_totals_use_the_catalogs_current_prices():
    cart = CartFactory()
    mug = CartItemFactory(cart=cart, product=ProductFactory(price="3.33"), quantity=3)
    CartItemFactory(cart=cart, product=ProductFactory(price="0.10"), quantity=1)
    catalog_services.update_product(product=mug.product, price=Decimal("4.05"))

    cart = Cart.objects.with_lines().get(pk=cart.pk)

    assert [item.line_total for item in cart.items.all()] == [
        Decimal("12.15"),
        Decimal("0.10"),
    ]
    assert cart.subtotal == Decimal("12.25")
    assert cart.item_count == 4


def test_an_empty_cart_totals_zero():
    cart = CartFactory()

    assert cart.subtotal == Decimal("0.00")
    assert str(cart.subtotal) == "0.00"
    assert cart.item_count == 0


def test_cart_warnings_are_empty_when_the_cart_can_be_checked_out():
    cart = CartFactory()
    CartItemFactory(cart=cart, quantity=10, product=ProductFactory(stock=10))

    assert services.cart_warnings(cart=cart) == []


def test_cart_warnings_name_lines_that_went_short_or_inactive_after_being_added():
    cart = CartFactory()
    fine = ProductFactory(stock=5)
    short = ProductFactory(stock=5)
    retired = ProductFactory(stock=5)
    sold_out = ProductFactory(stock=5)
    services.add_item(cart=cart, variant=variant_of(fine), quantity=2)
    short_line = services.add_item(cart=cart, variant=variant_of(short), quantity=4)
    retired_line = services.add_item(cart=cart, variant=variant_of(retired), quantity=1)
    sold_out_line = services.add_item(
        cart=cart, variant=variant_of(sold_out), quantity=1
    )
    catalog_services.take_stock(
        lines=[(variant_of(short).pk, 3), (variant_of(sold_out).pk, 5)]
    )
    catalog_services.update_product(product=retired, is_active=False)

    warnings = services.cart_warnings(cart=Cart.objects.with_lines().get(pk=cart.pk))

    assert warnings == [
        {"item": short_line.pk, "code": "insufficient_stock", "available": 2},
        {"item": retired_line.pk, "code": "inactive", "available": 0},
        {"item": sold_out_line.pk, "code": "insufficient_stock", "available": 0},
    ]


def test_reading_a_cart_with_its_lines_costs_two_queries_whatever_its_size(
    django_assert_num_queries,
):
    cart = CartFactory()
    CartItemFactory.create_batch(10, cart=cart)

    with django_assert_num_queries(2):
        loaded = Cart.objects.with_lines().get(pk=cart.pk)
        [item.product.category.name for item in loaded.items.all()]
        (loaded.subtotal, loaded.item_count, services.cart_warnings(cart=loaded))


# --- merge_carts ----------------------------------------------------------------------


def test_merge_moves_lines_adds_quantities_and_deletes_the_source():
    source, target = CartFactory(user=None), CartFactory()
    mug, tea, jam = (ProductFactory(stock=10) for _ in range(3))
    services.add_item(cart=target, variant=variant_of(mug), quantity=1)
    services.add_item(cart=target, variant=variant_of(jam), quantity=4)
    services.add_item(cart=source, variant=variant_of(mug), quantity=2)
    services.add_item(cart=source, variant=variant_of(tea), quantity=3)

    result = services.merge_carts(source=source, target=target)

    assert result == MergeResult(
        added=(
            MergedLine(variant_of(mug), 2, 3, 3),
            MergedLine(variant_of(tea), 3, 3, 3),
        ),
        capped=(),
        dropped=(),
    )
    assert lines_of(target) == [(mug.pk, 3), (jam.pk, 4), (tea.pk, 3)]
    assert not Cart.objects.filter(pk=source.pk).exists()
    assert CartItem.objects.filter(cart_id=source.pk).count() == 0


def test_merge_caps_each_line_at_the_stock_on_hand():
    source, target = CartFactory(user=None), CartFactory()
    mug, tea = ProductFactory(stock=4), ProductFactory(stock=10)
    services.add_item(cart=target, variant=variant_of(mug), quantity=3)
    services.add_item(cart=source, variant=variant_of(mug), quantity=2)
    services.add_item(cart=source, variant=variant_of(tea), quantity=6)
    catalog_services.take_stock(lines=[(variant_of(tea).pk, 8)])

    result = services.merge_carts(source=source, target=target)

    assert result == MergeResult(
        added=(),
        capped=(
            MergedLine(variant_of(mug), 2, 5, 4),
            MergedLine(variant_of(tea), 6, 6, 2),
        ),
        dropped=(),
    )
    assert lines_of(target) == [(mug.pk, 4), (tea.pk, 2)]


def test_merge_caps_a_line_at_one_thousand_units():
    source, target = CartFactory(user=None), CartFactory()
    product = ProductFactory(stock=5000)
    services.add_item(cart=target, variant=variant_of(product), quantity=600)
    services.add_item(cart=source, variant=variant_of(product), quantity=500)

    result = services.merge_carts(source=source, target=target)

    assert result.capped == (MergedLine(variant_of(product), 500, 1100, 1000),)
    assert lines_of(target) == [(product.pk, 1000)]


def test_merge_drops_inactive_and_sold_out_products_and_leaves_the_targets_line():
    source, target = CartFactory(user=None), CartFactory()
    retired, sold_out, fine = (ProductFactory(stock=5) for _ in range(3))
    services.add_item(cart=target, variant=variant_of(retired), quantity=1)
    for product in (retired, sold_out, fine):
        services.add_item(cart=source, variant=variant_of(product), quantity=2)
    catalog_services.update_product(product=retired, is_active=False)
    catalog_services.take_stock(lines=[(variant_of(sold_out).pk, 5)])

    result = services.merge_carts(source=source, target=target)

    assert result == MergeResult(
        added=(MergedLine(variant_of(fine), 2, 2, 2),),
        capped=(),
        dropped=(
            DroppedLine(variant_of(retired), 2, "inactive"),
            DroppedLine(variant_of(sold_out), 2, "out_of_stock"),
        ),
    )
    assert lines_of(target) == [(retired.pk, 1), (fine.pk, 2)]
    assert not Cart.objects.filter(pk=source.pk).exists()


def test_merge_of_an_empty_cart_changes_nothing_and_deletes_it():
    source, target = CartFactory(user=None), CartFactory()
    CartItemFactory(cart=target, quantity=2)

    result = services.merge_carts(source=source, target=target)

    assert result == MergeResult()
    assert not result
    assert target.items.get().quantity == 2
    assert not Cart.objects.filter(pk=source.pk).exists()


def test_merge_of_a_source_already_gone_merges_nothing():
    source, target = CartFactory(user=None), CartFactory()
    CartItemFactory(cart=source)
    Cart.objects.filter(pk=source.pk).delete()

    result = services.merge_carts(source=source, target=target)

    assert result == MergeResult()
    assert lines_of(target) == []


def test_merge_refuses_to_merge_a_cart_into_itself():
    cart = CartFactory()
    CartItemFactory(cart=cart)

    with pytest.raises(ValueError, match="itself"):
        services.merge_carts(source=cart, target=cart)

    assert cart.items.count() == 1


def test_merge_touches_the_target_cart():
    source, target = CartFactory(user=None), CartFactory()
    before = target.updated_at
    CartItemFactory(cart=source)

    services.merge_carts(source=source, target=target)

    target.refresh_from_db()
    assert target.updated_at > before


# --- delete_stale_carts ---------------------------------------------------------------


def age(cart, days):
    Cart.objects.filter(pk=cart.pk).update(
        updated_at=timezone.now() - timedelta(days=days)
    )


def test_delete_stale_carts_deletes_old_anonymous_carts_in_batches():
    old = CartFactory.create_batch(5, user=None)
    for cart in old:
        CartItemFactory(cart=cart)
        age(cart, 31)
    recent = CartFactory(user=None)
    old_account_cart = CartFactory()
    age(old_account_cart, 400)

    batches = list(
        services.delete_stale_carts(
            updated_before=timezone.now() - timedelta(days=30), batch_size=2
        )
    )

    assert batches == [2, 2, 1]
    assert set(Cart.objects.values_list("pk", flat=True)) == {
        recent.pk,
        old_account_cart.pk,
    }
    assert CartItem.objects.count() == 0


# --- Concurrency, on the real database ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_threads_adding_one_product_at_once_end_with_one_line_of_the_sum():
    product = ProductFactory(stock=100)
    carts = CartFactory.create_batch(5)

    # Several rounds, as one race may happen to run its threads in turn.
    results = [
        race(
            [
                lambda cart=cart: services.add_item(
                    cart=cart, variant=variant_of(product), quantity=2
                ),
                lambda cart=cart: services.add_item(
                    cart=cart, variant=variant_of(product), quantity=3
                ),
            ]
        )
        for cart in carts
    ]

    assert [[type(r) for r in round_] for round_ in results] == [
        [CartItem, CartItem]
    ] * 5
    assert [lines_of(cart) for cart in carts] == [[(product.pk, 5)]] * 5


@pytest.mark.django_db(transaction=True)
def test_many_threads_adding_to_one_cart_lose_no_units():
    cart = CartFactory()
    product = ProductFactory(stock=100)

    results = race(
        [lambda: services.add_item(cart=cart, variant=variant_of(product), quantity=1)]
        * 8
    )

    assert all(isinstance(result, CartItem) for result in results)
    assert lines_of(cart) == [(product.pk, 8)]


@pytest.mark.django_db(transaction=True)
def test_racing_adds_are_checked_against_the_stock_together():
    cart = CartFactory()
    product = ProductFactory(stock=5)

    results = race(
        [lambda: services.add_item(cart=cart, variant=variant_of(product), quantity=3)]
        * 2
    )

    assert sorted(type(result).__name__ for result in results) == [
        "CartItem",
        "InsufficientStock",
    ]
    assert lines_of(cart) == [(product.pk, 3)]


@pytest.mark.django_db(transaction=True)
def test_a_merge_racing_an_add_to_the_target_loses_no_units():
    source, target = CartFactory(user=None), CartFactory()
    product = ProductFactory(stock=100)
    services.add_item(cart=source, variant=variant_of(product), quantity=4)

    results = race(
        [
            lambda: services.merge_carts(source=source, target=target),
            lambda: services.add_item(
                cart=target, variant=variant_of(product), quantity=5
            ),
        ]
    )

    assert not any(isinstance(result, Exception) for result in results)
    assert lines_of(target) == [(product.pk, 9)]
