from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.tests.factories import StaffFactory
from catalog import services
from catalog.exceptions import InsufficientStock, Shortage
from catalog.models import Product, StockMovement
from catalog.tests.factories import CategoryFactory, ProductFactory, variant_of
from core.testing import race

pytestmark = pytest.mark.django_db

Reason = StockMovement.Reason


def movements_of(product):
    return list(
        StockMovement.objects.filter(product=product)
        .order_by("id")
        .values_list("quantity", "stock_after", "reason", "reference")
    )


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def test_create_product_records_its_initial_stock_as_a_movement():
    staff = StaffFactory()

    product = services.create_product(
        sku="TEA-1",
        name="Green tea",
        category=CategoryFactory(),
        price=Decimal("4.50"),
        stock=12,
        user=staff,
    )

    movement = StockMovement.objects.get(product=product)
    assert (product.stock, product.slug) == (12, "green-tea")
    assert (movement.quantity, movement.stock_after, movement.reason) == (
        12,
        12,
        Reason.INITIAL,
    )
    assert (movement.sku, movement.user) == ("TEA-1", staff)


def test_create_product_without_stock_records_no_movement():
    product = ProductFactory(stock=0)

    assert movements_of(product) == []


def test_adjust_stock_adds_and_removes_with_a_movement_each():
    product = ProductFactory(stock=5)
    staff = StaffFactory()

    services.adjust_stock(
        variant=variant_of(product), quantity=4, user=staff, reference="count"
    )
    services.adjust_stock(
        variant=variant_of(product), quantity=-7, reason=Reason.DAMAGE
    )

    assert stock_of(product) == 2
    assert movements_of(product) == [
        (5, 5, Reason.INITIAL, ""),
        (4, 9, Reason.ADJUSTMENT, "count"),
        (-7, 2, Reason.DAMAGE, ""),
    ]


def test_adjust_stock_refuses_to_go_below_zero_and_changes_nothing():
    product = ProductFactory(stock=3)

    with pytest.raises(InsufficientStock) as error:
        services.adjust_stock(variant=variant_of(product), quantity=-4)

    assert error.value.shortages == [
        Shortage(product.pk, product.sku, 4, 3, variant_id=variant_of(product).pk)
    ]
    assert (error.value.product_id, error.value.available) == (product.pk, 3)
    assert stock_of(product) == 3
    assert len(movements_of(product)) == 1


def test_adjust_stock_refuses_zero():
    product = ProductFactory()

    with pytest.raises(ValidationError):
        services.adjust_stock(variant=variant_of(product), quantity=0)


def test_set_stock_records_the_difference_to_the_counted_figure():
    product = ProductFactory(stock=10)

    services.set_stock(variant=variant_of(product), stock=6, user=StaffFactory())

    assert stock_of(product) == 6
    assert movements_of(product)[-1] == (-4, 6, Reason.ADJUSTMENT, "")


def test_set_stock_to_the_same_figure_records_nothing():
    product = ProductFactory(stock=10)

    services.set_stock(variant=variant_of(product), stock=10)

    assert len(movements_of(product)) == 1


def test_take_stock_takes_every_line_with_a_movement_each():
    mug, tea = ProductFactory(stock=5), ProductFactory(stock=8)

    movements = services.take_stock(
        lines=[
            (variant_of(tea).pk, 3),
            (variant_of(mug).pk, 2),
            (variant_of(tea).pk, 1),
        ],
        reference="ORD-1",
    )

    assert (stock_of(mug), stock_of(tea)) == (3, 4)
    assert [(m.product_id, m.quantity, m.stock_after) for m in movements] == [
        (mug.pk, -2, 3),
        (tea.pk, -4, 4),
    ]
    assert {m.reason for m in movements} == {Reason.SALE}
    assert {m.reference for m in movements} == {"ORD-1"}


def test_take_stock_hands_back_each_product_as_sold():
    mug = ProductFactory(sku="MUG", name="Mug", price=Decimal("4.50"), stock=5)
    tea = ProductFactory(sku="TEA", name="Tea", price=Decimal("3.00"), stock=8)

    movements = services.take_stock(
        lines=[(variant_of(tea).pk, 3), (variant_of(mug).pk, 2)]
    )

    assert [
        (m.product.pk, m.product.sku, m.product.name, m.product.price, m.product.stock)
        for m in movements
    ] == [
        (mug.pk, "MUG", "Mug", Decimal("4.50"), 3),
        (tea.pk, "TEA", "Tea", Decimal("3.00"), 5),
    ]


@pytest.mark.parametrize("lines", [1, 4])
def test_take_stock_costs_five_statements_whatever_the_number_of_lines(
    django_assert_num_queries, lines
):
    products = ProductFactory.create_batch(lines, stock=5)
    taken = [(variant_of(product).pk, 2) for product in products]

    # No savepoint inside the caller's transaction: the variants' rows and
    # the products' locked in id order, one update of every variant's stock
    # and one of every product's, one insert of every movement.
    with django_assert_num_queries(5):
        services.take_stock(lines=taken)

    assert [stock_of(product) for product in products] == [3] * lines


def test_a_refused_take_stock_leaves_the_callers_transaction_usable():
    mug = ProductFactory(stock=1)

    with transaction.atomic():
        with pytest.raises(InsufficientStock):
            services.take_stock(lines=[(variant_of(mug).pk, 2)])
        services.take_stock(lines=[(variant_of(mug).pk, 1)])

    assert stock_of(mug) == 0


def test_take_stock_reports_every_short_line_and_takes_nothing():
    mug = ProductFactory(stock=5)
    tea = ProductFactory(stock=1)
    jam = ProductFactory(stock=2)

    with pytest.raises(InsufficientStock) as error:
        services.take_stock(
            lines=[
                (variant_of(mug).pk, 2),
                (variant_of(tea).pk, 3),
                (variant_of(jam).pk, 4),
            ]
        )

    assert error.value.shortages == [
        Shortage(tea.pk, tea.sku, 3, 1, variant_id=variant_of(tea).pk),
        Shortage(jam.pk, jam.sku, 4, 2, variant_id=variant_of(jam).pk),
    ]
    assert error.value.status == 409
    assert error.value.code == "insufficient_stock"
    assert error.value.errors == {
        f"products.{tea.pk}": [f"Only 1 of {tea.sku} in stock; 3 requested."],
        f"products.{jam.pk}": [f"Only 2 of {jam.sku} in stock; 4 requested."],
    }
    assert (stock_of(mug), stock_of(tea), stock_of(jam)) == (5, 1, 2)
    assert StockMovement.objects.filter(reason=Reason.SALE).count() == 0


def test_take_stock_refuses_an_inactive_product():
    product = ProductFactory(stock=5, is_active=False)

    with pytest.raises(InsufficientStock) as error:
        services.take_stock(lines=[(variant_of(product).pk, 1)])

    assert error.value.shortages == [
        Shortage(
            product.pk,
            product.sku,
            1,
            0,
            is_active=False,
            variant_id=variant_of(product).pk,
        )
    ]
    assert stock_of(product) == 5


def test_take_stock_refuses_a_product_that_no_longer_exists():
    with pytest.raises(InsufficientStock) as error:
        services.take_stock(lines=[(987654, 1)])

    assert error.value.shortages == [
        Shortage(0, "", 1, 0, is_active=False, variant_id=987654)
    ]


@pytest.mark.parametrize("quantity", [0, -1, 1.5])
def test_take_stock_refuses_a_quantity_that_is_not_a_positive_whole_number(quantity):
    product = ProductFactory()

    with pytest.raises(ValidationError):
        services.take_stock(lines=[(variant_of(product).pk, quantity)])


def test_return_stock_puts_units_back_with_a_cancellation_movement():
    product = ProductFactory(stock=5)
    services.take_stock(lines=[(variant_of(product).pk, 4)], reference="ORD-2")

    services.return_stock(lines=[(variant_of(product).pk, 4)], reference="ORD-2")

    assert stock_of(product) == 5
    assert movements_of(product)[-1] == (4, 5, Reason.CANCELLATION, "ORD-2")


def test_return_stock_skips_a_deleted_product():
    product = ProductFactory(stock=5)
    kept = ProductFactory(stock=1)
    variant_id = variant_of(product).pk
    product.delete()

    movements = services.return_stock(lines=[(variant_id, 2), (variant_of(kept).pk, 1)])

    assert [(m.product_id, m.quantity) for m in movements] == [(kept.pk, 1)]


def test_deleting_a_product_keeps_its_movements_with_the_sku():
    product = ProductFactory(sku="GONE-1", stock=3)

    product.delete()

    assert list(
        StockMovement.objects.values_list("product", "variant", "sku", "quantity")
    ) == [(None, None, "GONE-1", 3)]


def test_update_product_turns_a_new_stock_figure_into_an_adjustment():
    product = ProductFactory(stock=10, price=Decimal("3.00"))
    staff = StaffFactory()

    services.update_product(
        product=product, user=staff, price=Decimal("4.00"), stock=15
    )

    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("4.00"), 15)
    movement = StockMovement.objects.filter(product=product).latest("id")
    assert (movement.quantity, movement.reason, movement.user) == (
        5,
        Reason.ADJUSTMENT,
        staff,
    )


def test_update_product_refuses_an_unknown_field():
    with pytest.raises(TypeError):
        services.update_product(product=ProductFactory(), created_at=None)


def test_set_products_active_changes_all_given_products():
    products = ProductFactory.create_batch(3, is_active=True)
    chosen = Product.objects.filter(pk__in=[products[0].pk, products[1].pk])

    count = services.set_products_active(products=chosen, is_active=False)

    assert count == 2
    assert list(Product.objects.active()) == [products[2]]


@pytest.mark.django_db(transaction=True)
def test_two_racing_removals_never_take_stock_below_zero():
    product = ProductFactory(stock=8)

    results = race(
        [lambda: services.adjust_stock(variant=variant_of(product), quantity=-5)] * 2
    )

    failures = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(failures) == 1
    assert failures[0].available == 3
    assert stock_of(product) == 3
    assert sum(StockMovement.objects.values_list("quantity", flat=True)) == 3


@pytest.mark.django_db(transaction=True)
def test_racing_checkouts_sharing_products_sell_no_more_than_is_on_hand():
    mug, tea = ProductFactory(stock=3), ProductFactory(stock=3)

    # Opposite line orders: the service's fixed order keeps them deadlock-free.
    results = race(
        [
            lambda: services.take_stock(
                lines=[(variant_of(mug).pk, 2), (variant_of(tea).pk, 2)]
            ),
            lambda: services.take_stock(
                lines=[(variant_of(tea).pk, 2), (variant_of(mug).pk, 2)]
            ),
        ]
    )

    assert sorted(type(r).__name__ for r in results) == ["InsufficientStock", "list"]
    assert (stock_of(mug), stock_of(tea)) == (1, 1)
