from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.addresses import CONTROL_MESSAGE
from accounts.tests.factories import StaffFactory, UserFactory
from carts.models import Cart, CartItem
from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock
from catalog.models import Product, StockMovement
from catalog.tests.factories import ProductFactory, variant_of
from orders import services
from orders.exceptions import (
    CartEmpty,
    IdempotencyKeyReused,
    InvalidTransition,
    PaymentDeclined,
    PriceChanged,
)
from orders.models import Order, Payment
from orders.payments import ChargeResult, PaymentGateway, TestCardGateway
from orders.tests.factories import (
    APPROVED_CARD,
    DECLINED_CARD,
    ERROR_CARD,
    OrderFactory,
    PaidOrderFactory,
    address,
    fill_cart,
    pay,
)

pytestmark = pytest.mark.django_db

Status = Order.Status


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def checkout(user, **kwargs):
    kwargs.setdefault("shipping_address", address())
    return services.place_order(user=user, **kwargs)


# The counters as /metrics shows them.
ORDERS_PLACED = "shopswift_orders_placed_total"
CONFLICTS = "shopswift_checkout_conflicts_total"


def counted(sample, **labels):
    return REGISTRY.get_sample_value(sample, labels)


def movements(order):
    return list(
        StockMovement.objects.filter(reference=order.number)
        .order_by("id")
        .values_list("sku", "quantity", "reason")
    )


# --- Checkout ------------------------------------------------------------------


def test_checkout_creates_a_pending_order_from_the_cart_and_empties_it():
    user = UserFactory()
    mug = ProductFactory(sku="MUG", name="Mug", price=Decimal("12.50"), stock=10)
    tea = ProductFactory(sku="TEA", name="Tea", price=Decimal("4.25"), stock=3)
    fill_cart(user, (mug, 2), (tea, 3))

    placed = checkout(user, note="Ring twice")

    order = placed.order
    assert placed.created is True
    assert order.status == Status.PENDING
    assert order.user == user
    assert [
        (i.product, i.sku, i.name, i.unit_price, i.quantity, i.line_total)
        for i in order.items.all()
    ] == [
        (mug, "MUG", "Mug", Decimal("12.50"), 2, Decimal("25.00")),
        (tea, "TEA", "Tea", Decimal("4.25"), 3, Decimal("12.75")),
    ]
    assert (order.subtotal, order.shipping_cost, order.total) == (
        Decimal("37.75"),
        Decimal("5.00"),
        Decimal("42.75"),
    )
    assert order.currency == "USD"
    assert order.note == "Ring twice"
    assert order.shipping_address == address()
    assert [(c.status, c.by) for c in order.history.all()] == [("pending", user)]
    assert not CartItem.objects.filter(cart__user=user).exists()
    assert (stock_of(mug), stock_of(tea)) == (8, 0)


def test_a_new_order_comes_with_the_lines_and_history_just_written(
    django_assert_num_queries,
):
    user = UserFactory()
    fill_cart(user, (ProductFactory(sku="MUG"), 2), (ProductFactory(sku="TEA"), 1))

    placed = checkout(user)

    with django_assert_num_queries(0):
        items = [(item.pk, item.sku, item.quantity) for item in placed.items]
        history = [(change.pk, change.status) for change in placed.history]
    assert items == list(placed.order.items.values_list("pk", "sku", "quantity"))
    assert history == list(placed.order.history.values_list("pk", "status"))


def test_checkout_takes_the_stock_with_a_sale_movement_naming_the_order():
    user = UserFactory()
    mug = ProductFactory(sku="MUG", stock=10)
    fill_cart(user, (mug, 4))

    order = checkout(user).order

    assert movements(order) == [("MUG", -4, "sale")]


def test_a_clashing_order_number_is_drawn_again_and_the_stock_taken_once(
    monkeypatch,
):
    mug = ProductFactory(sku="MUG", stock=5)
    taken = OrderFactory(lines=[(mug, 1)])
    user = UserFactory()
    fill_cart(user, (mug, 2))
    numbers = iter([taken.number, "SW-AAAA-0002"])
    monkeypatch.setattr(services, "generate_order_number", lambda: next(numbers))

    placed = checkout(user)

    order = placed.order
    assert (order.number, placed.created) == ("SW-AAAA-0002", True)
    assert movements(order) == [("MUG", -2, "sale")]
    assert movements(taken) == [("MUG", -1, "sale")]
    assert stock_of(mug) == 2
    assert not CartItem.objects.filter(cart__user=user).exists()


def test_checkout_gives_up_when_every_number_drawn_is_taken(monkeypatch):
    mug = ProductFactory(stock=5)
    taken = OrderFactory(lines=[(mug, 1)])
    user = UserFactory()
    fill_cart(user, (mug, 2))
    drawn = []
    monkeypatch.setattr(
        services, "generate_order_number", lambda: drawn.append(1) or taken.number
    )

    with pytest.raises(IntegrityError):
        checkout(user)

    assert len(drawn) == services.NUMBER_ATTEMPTS
    assert stock_of(mug) == 4
    assert Order.objects.count() == 1
    assert CartItem.objects.filter(cart__user=user).count() == 1


def test_order_numbers_are_random_and_human_friendly():
    numbers = {OrderFactory().number for _ in range(5)}

    assert len(numbers) == 5
    for number in numbers:
        assert len(number) == 12
        prefix, first, second = number.split("-")
        assert prefix == "SW"
        assert set(first + second) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


@pytest.mark.parametrize(
    ("price", "shipping", "total"),
    [
        (Decimal("49.99"), Decimal("5.00"), Decimal("54.99")),
        (Decimal("50.00"), Decimal("0.00"), Decimal("50.00")),
        (Decimal("50.01"), Decimal("0.00"), Decimal("50.01")),
        (Decimal("0.01"), Decimal("5.00"), Decimal("5.01")),
    ],
)
def test_shipping_is_free_at_or_above_the_threshold(price, shipping, total):
    user = UserFactory()
    fill_cart(user, (ProductFactory(price=price), 1))

    order = checkout(user).order

    assert (order.subtotal, order.shipping_cost, order.total) == (
        price,
        shipping,
        total,
    )


def test_shipping_rate_and_threshold_come_from_settings(settings):
    settings.SHIPPING_FLAT_RATE = Decimal("7.95")
    settings.FREE_SHIPPING_THRESHOLD = Decimal("100.00")
    user = UserFactory()
    fill_cart(user, (ProductFactory(price=Decimal("60.00")), 1))

    order = checkout(user).order

    assert (order.shipping_cost, order.total) == (Decimal("7.95"), Decimal("67.95"))


def test_totals_are_exact_decimal_sums_of_the_lines():
    # 0.10 + 0.20 is 0.30000000000000004 in floating point.
    user = UserFactory()
    fill_cart(
        user,
        (ProductFactory(price=Decimal("0.10")), 1),
        (ProductFactory(price=Decimal("0.20")), 1),
        (ProductFactory(price=Decimal("33.33")), 3),
    )

    order = checkout(user).order

    assert order.subtotal == Decimal("100.29")
    assert order.total == Decimal("100.29")
    assert str(order.subtotal) == "100.29"


def test_checkout_of_an_empty_cart_is_refused():
    user = UserFactory()

    with pytest.raises(CartEmpty):
        checkout(user)

    assert not Order.objects.exists()


def test_checkout_refuses_every_short_line_and_changes_nothing():
    user = UserFactory()
    mug = ProductFactory(sku="MUG", stock=1)
    tea = ProductFactory(sku="TEA", stock=5)
    pen = ProductFactory(sku="PEN", stock=0)
    cart = fill_cart(user, (mug, 2), (tea, 5), (pen, 1))

    with pytest.raises(InsufficientStock) as refusal:
        checkout(user)

    assert refusal.value.errors == {
        f"products.{mug.pk}": ["Only 1 of MUG in stock; 2 requested."],
        f"products.{pen.pk}": ["Only 0 of PEN in stock; 1 requested."],
    }
    item_ids = {item.variant.product_id: item.pk for item in cart.items.all()}
    assert [
        (s["product_id"], s["item"], s["available"])
        for s in refusal.value.extra["shortages"]
    ] == [(mug.pk, item_ids[mug.pk], 1), (pen.pk, item_ids[pen.pk], 0)]
    assert (stock_of(mug), stock_of(tea), stock_of(pen)) == (1, 5, 0)
    assert cart.items.count() == 3
    assert not Order.objects.exists()
    assert not StockMovement.objects.filter(reason="sale").exists()


def test_checkout_refuses_an_inactive_product():
    user = UserFactory()
    retired = ProductFactory(sku="OLD", stock=5, is_active=False)
    fill_cart(user, (retired, 1))

    with pytest.raises(InsufficientStock) as refusal:
        checkout(user)

    assert refusal.value.errors == {
        f"products.{retired.pk}": ["OLD is no longer for sale."]
    }
    assert stock_of(retired) == 5


def test_checkout_with_the_total_shown_places_the_order():
    user = UserFactory()
    fill_cart(user, (ProductFactory(price=Decimal("20.00")), 1))

    order = checkout(user, expected_total=Decimal("25.00")).order

    assert order.total == Decimal("25.00")


def test_checkout_refuses_a_total_other_than_the_one_shown_and_changes_nothing():
    user = UserFactory()
    mug = ProductFactory(price=Decimal("20.00"), stock=4)
    cart = fill_cart(user, (mug, 2))
    catalog_services.update_product(product=mug, price=Decimal("22.00"))

    with pytest.raises(PriceChanged) as refusal:
        checkout(user, expected_total=Decimal("45.00"))

    assert refusal.value.extra == {
        "expected_total": "45.00",
        "subtotal": "44.00",
        "discount_total": "0.00",
        "shipping_cost": "5.00",
        "tax_total": "0.00",
        "total": "49.00",
        "currency": "USD",
    }
    assert stock_of(mug) == 4
    assert cart.items.count() == 1
    assert not Order.objects.exists()


def test_checkout_refuses_an_order_too_large_for_its_columns():
    user = UserFactory()
    fill_cart(user, (ProductFactory(price=Decimal("99999999.99"), stock=5), 2))

    with pytest.raises(ValidationError):
        checkout(user)

    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"full_name": "  "},
            {"shipping_address.full_name": ["This field is required."]},
        ),
        (
            {"country": "XX"},
            {
                "shipping_address.country": [
                    "Enter a two-letter ISO 3166-1 country code, such as US or DE."
                ]
            },
        ),
        (
            {"postal_code": "12<3"},
            {
                "shipping_address.postal_code": [
                    "Use letters, digits, spaces and hyphens only."
                ]
            },
        ),
        ({"city": 7}, {"shipping_address.city": ["Enter text."]}),
        (
            {"full_name": "Ada\u0007\u001b[31m"},
            {"shipping_address.full_name": [CONTROL_MESSAGE]},
        ),
        (
            {"line1": "\u202e12 St James's Square"},
            {"shipping_address.line1": [CONTROL_MESSAGE]},
        ),
        ({"city": "Lon\u007fdon"}, {"shipping_address.city": [CONTROL_MESSAGE]}),
    ],
)
def test_checkout_refuses_a_bad_address_before_touching_anything(changes, errors):
    user = UserFactory()
    product = ProductFactory(stock=2)
    fill_cart(user, (product, 1))

    with pytest.raises(ValidationError) as refusal:
        checkout(user, shipping_address=address(**changes))

    assert refusal.value.message_dict == errors
    assert stock_of(product) == 2


def test_checkout_refuses_control_characters_in_the_note_but_keeps_its_lines():
    user = UserFactory()
    product = ProductFactory(stock=2)
    fill_cart(user, (product, 1))

    with pytest.raises(ValidationError) as refusal:
        checkout(user, note="Ring\u0000twice\u0008")
    order = checkout(user, note="Ring twice\r\n\tthen wait").order

    assert refusal.value.message_dict == {"note": [CONTROL_MESSAGE]}
    assert order.note == "Ring twice\r\n\tthen wait"
    assert stock_of(product) == 1


def test_checkout_normalises_the_address():
    user = UserFactory()
    fill_cart(user, (ProductFactory(), 1))

    order = checkout(
        user,
        shipping_address=address(
            country="de", postal_code="10115", city="  Berlin\n Mitte ", phone=""
        ),
    ).order

    assert order.shipping_address["country"] == "DE"
    assert order.shipping_address["city"] == "Berlin Mitte"
    assert order.shipping_address["phone"] == ""


# --- Idempotency ------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_order():
    user = UserFactory()
    mug = ProductFactory(stock=5)
    fill_cart(user, (mug, 2))
    first = checkout(user, idempotency_key="key-1").order
    fill_cart(user, (mug, 1))  # the cart filled again meanwhile

    again = checkout(user, idempotency_key="key-1")

    assert again.created is False
    assert again.order == first
    assert Order.objects.count() == 1
    assert stock_of(mug) == 3
    assert CartItem.objects.filter(cart__user=user).count() == 1


def test_a_retry_comes_with_the_lines_and_history_of_the_order_it_found():
    user = UserFactory()
    fill_cart(user, (ProductFactory(sku="MUG"), 2))
    pay(checkout(user, idempotency_key="key-1").order)

    again = checkout(user, idempotency_key="key-1")

    assert again.created is False
    assert [(item.sku, item.quantity) for item in again.items] == [("MUG", 2)]
    assert [change.status for change in again.history] == ["pending", "paid"]


def test_a_new_key_places_a_new_order():
    user = UserFactory()
    mug = ProductFactory(stock=5)
    fill_cart(user, (mug, 1))
    first = checkout(user, idempotency_key="key-1").order
    fill_cart(user, (mug, 1))

    second = checkout(user, idempotency_key="key-2")

    assert second.created is True
    assert second.order != first


def test_keys_belong_to_one_customer():
    ada, bob = UserFactory(), UserFactory()
    fill_cart(ada, (ProductFactory(), 1))
    fill_cart(bob, (ProductFactory(), 1))

    ada_order = checkout(ada, idempotency_key="same").order
    bob_placed = checkout(bob, idempotency_key="same")

    bob_order = bob_placed.order
    assert bob_placed.created is True
    assert bob_order.user == bob
    assert ada_order != bob_order


def test_a_refused_checkout_can_be_retried_with_the_same_key():
    user = UserFactory()
    mug = ProductFactory(stock=1)
    fill_cart(user, (mug, 2))
    with pytest.raises(InsufficientStock):
        checkout(user, idempotency_key="key-1")
    catalog_services.adjust_stock(variant=variant_of(mug), quantity=1)

    placed = checkout(user, idempotency_key="key-1")

    assert placed.created is True
    assert placed.order.idempotency_key == "key-1"
    assert stock_of(mug) == 0


def test_a_retry_returns_the_first_order_when_the_cart_filled_again_is_short(
    django_capture_on_commit_callbacks,
):
    # A filled cart is checked out without a lookup of the key first: what
    # the new lines meet must not hide the order already placed.
    user = UserFactory()
    mug = ProductFactory(stock=2)
    fill_cart(user, (mug, 2))
    first = checkout(user, idempotency_key="key-1").order
    catalog_services.adjust_stock(variant=variant_of(mug), quantity=1)
    fill_cart(user, (mug, 1))
    catalog_services.adjust_stock(variant=variant_of(mug), quantity=-1)
    refused = counted(CONFLICTS, reason="insufficient_stock")

    with django_capture_on_commit_callbacks(execute=True):
        again = checkout(user, idempotency_key="key-1")

    assert (again.order, again.created) == (first, False)
    assert counted(CONFLICTS, reason="insufficient_stock") == refused
    assert Order.objects.count() == 1
    assert list(
        CartItem.objects.filter(cart__user=user).values_list("quantity", flat=True)
    ) == [1]


def test_a_retry_returns_the_first_order_when_the_cart_filled_again_costs_more():
    user = UserFactory()
    mug = ProductFactory(stock=5, price=Decimal("10.00"))
    fill_cart(user, (mug, 1))
    shown = Decimal("15.00")  # 10.00 and the flat rate's 5.00
    first = checkout(user, idempotency_key="key-1", expected_total=shown).order
    fill_cart(user, (mug, 3))

    again = checkout(user, idempotency_key="key-1", expected_total=shown)

    assert (again.order, again.created) == (first, False)
    assert stock_of(mug) == 4
    assert Order.objects.count() == 1


def test_a_retry_and_a_refusal_leave_the_cart_as_it_was():
    user = UserFactory()
    mug = ProductFactory(stock=1)
    fill_cart(user, (mug, 1))
    checkout(user, idempotency_key="key-1")
    emptied = Cart.objects.get(user=user).updated_at

    checkout(user, idempotency_key="key-1")
    assert Cart.objects.get(user=user).updated_at == emptied
    catalog_services.adjust_stock(variant=variant_of(mug), quantity=1)
    fill_cart(user, (mug, 1))
    filled = Cart.objects.get(user=user).updated_at
    catalog_services.adjust_stock(variant=variant_of(mug), quantity=-1)
    with pytest.raises(InsufficientStock):
        checkout(user)

    assert Cart.objects.get(user=user).updated_at == filled


def test_the_key_sent_again_with_another_address_is_refused_and_changes_nothing():
    user = UserFactory()
    mug = ProductFactory(stock=5)
    fill_cart(user, (mug, 1))
    first = checkout(user, idempotency_key="key-1").order
    fill_cart(user, (mug, 2))

    with pytest.raises(IdempotencyKeyReused):
        checkout(
            user,
            idempotency_key="key-1",
            shipping_address=address(line1="1 Elsewhere Road"),
        )

    assert list(Order.objects.all()) == [first]
    assert stock_of(mug) == 4
    assert list(
        CartItem.objects.filter(cart__user=user).values_list("quantity", flat=True)
    ) == [2]


@pytest.mark.parametrize(
    "changes",
    [{"note": "Leave it with the neighbour"}, {"expected_total": Decimal("1.00")}],
    ids=["note", "expected_total"],
)
def test_the_key_sent_again_with_another_request_after_the_cart_emptied_is_refused(
    changes,
):
    user = UserFactory()
    fill_cart(user, (ProductFactory(price=Decimal("10.00")), 1))
    checkout(user, idempotency_key="key-1")

    with pytest.raises(IdempotencyKeyReused):
        checkout(user, idempotency_key="key-1", **changes)


def test_the_same_request_written_differently_is_the_same_request():
    user = UserFactory()
    fill_cart(user, (ProductFactory(price=Decimal("10.00")), 1))
    shown = Decimal("15.00")  # 10.00 and the flat rate's 5.00
    first = checkout(
        user, idempotency_key="key-1", expected_total=shown, note="Ring twice"
    ).order

    again = checkout(
        user,
        idempotency_key="key-1",
        expected_total=Decimal(f"{shown}000"),
        note="  Ring twice  ",
        shipping_address={**address(), "city": f"  {address()['city']} "},
    )

    assert (again.order, again.created) == (first, False)


def test_an_order_placed_before_requests_were_fingerprinted_answers_any_retry():
    user = UserFactory()
    fill_cart(user, (ProductFactory(), 1))
    first = checkout(user, idempotency_key="key-1").order
    Order.objects.filter(pk=first.pk).update(idempotency_fingerprint="")

    again = checkout(user, idempotency_key="key-1", note="Another note")

    assert (again.order, again.created) == (first, False)


def test_an_order_without_a_key_keeps_no_fingerprint():
    user = UserFactory()
    fill_cart(user, (ProductFactory(), 1))

    assert checkout(user).order.idempotency_fingerprint == ""


def test_an_empty_cart_with_an_unused_key_is_refused_as_empty():
    user = UserFactory()

    with pytest.raises(CartEmpty):
        checkout(user, idempotency_key="key-1")

    assert not Order.objects.exists()


def test_placed_orders_and_refusals_are_counted_once_committed(
    django_capture_on_commit_callbacks,
):
    placed_before = counted(ORDERS_PLACED)
    refused_before = counted(CONFLICTS, reason="insufficient_stock")
    user = UserFactory()
    mug = ProductFactory(stock=1)
    fill_cart(user, (mug, 2))

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(InsufficientStock):
            checkout(user)
        CartItem.objects.filter(cart__user=user).update(quantity=1)
        checkout(user)

    assert counted(ORDERS_PLACED) == placed_before + 1
    assert counted(CONFLICTS, reason="insufficient_stock") == refused_before + 1


def test_an_overlong_idempotency_key_is_refused():
    user = UserFactory()
    fill_cart(user, (ProductFactory(), 1))

    with pytest.raises(ValidationError) as refusal:
        checkout(user, idempotency_key="k" * 101)

    assert list(refusal.value.message_dict) == ["Idempotency-Key"]


# --- Snapshot ------------------------------------------------------------------


def test_later_catalog_changes_leave_the_order_unchanged():
    order = OrderFactory(
        lines=[(ProductFactory(sku="MUG", name="Mug", price=Decimal("12.00")), 2)]
    )
    product = order.items.get().product

    catalog_services.update_product(
        product=product, name="Big mug", sku="MUG-2", price=Decimal("99.00")
    )
    line = order.items.get()
    assert (line.sku, line.name, line.unit_price, line.line_total) == (
        "MUG",
        "Mug",
        Decimal("12.00"),
        Decimal("24.00"),
    )

    product.delete()
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.product is None
    assert (line.sku, line.name, line.unit_price) == ("MUG", "Mug", Decimal("12.00"))
    assert order.total == Decimal("29.00")


# --- Lifecycle ------------------------------------------------------------------


def test_the_customer_cancels_a_pending_order_and_the_stock_goes_back():
    mug = ProductFactory(sku="MUG", stock=5)
    order = OrderFactory(lines=[(mug, 3)])

    services.cancel_order(order=order, user=order.user, note="Changed my mind")

    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert stock_of(mug) == 5
    assert movements(order) == [("MUG", -3, "sale"), ("MUG", 3, "cancellation")]
    assert [(c.status, c.by, c.note) for c in order.history.all()] == [
        ("pending", order.user, ""),
        ("cancelled", order.user, "Changed my mind"),
    ]


def test_a_second_cancellation_is_refused_and_restores_nothing():
    mug = ProductFactory(stock=5)
    order = OrderFactory(lines=[(mug, 3)])
    services.cancel_order(order=order, user=order.user)

    with pytest.raises(InvalidTransition) as refusal:
        services.cancel_order(order=order, user=StaffFactory())

    assert refusal.value.extra == {"order_status": "cancelled"}
    assert stock_of(mug) == 5
    assert order.history.count() == 2


def test_cancelling_skips_lines_whose_product_was_deleted():
    mug, tea = ProductFactory(sku="MUG", stock=5), ProductFactory(sku="TEA", stock=5)
    order = OrderFactory(lines=[(mug, 1), (tea, 2)])
    tea.delete()

    services.cancel_order(order=order, user=order.user)

    assert stock_of(mug) == 5
    assert movements(order)[-1] == ("MUG", 1, "cancellation")


def test_a_customer_cannot_cancel_a_paid_order():
    order = PaidOrderFactory()

    with pytest.raises(InvalidTransition):
        services.cancel_order(order=order, user=order.user)

    order.refresh_from_db()
    assert order.status == Status.PAID


def test_a_customer_cannot_cancel_someone_elses_order():
    order = OrderFactory()

    with pytest.raises(PermissionDenied):
        services.cancel_order(order=order, user=UserFactory())


def test_staff_cancel_a_paid_order_and_the_stock_goes_back():
    mug = ProductFactory(stock=4)
    order = PaidOrderFactory(lines=[(mug, 4)])
    staff = StaffFactory()

    services.cancel_order(order=order, user=staff)

    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert stock_of(mug) == 4
    assert order.history.last().by == staff


def test_staff_move_a_paid_order_through_shipping_to_delivery():
    order = PaidOrderFactory()
    staff = StaffFactory()

    services.change_order_status(order=order, status="shipped", user=staff)
    services.change_order_status(order=order, status="delivered", user=staff)

    order.refresh_from_db()
    assert order.status == Status.DELIVERED
    assert [(c.status, c.by) for c in order.history.all()] == [
        ("pending", order.user),
        ("paid", order.user),
        ("shipped", staff),
        ("delivered", staff),
    ]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("pending", "shipped"),
        ("pending", "delivered"),
        ("pending", "pending"),
        ("paid", "paid"),
        ("paid", "delivered"),
        ("paid", "pending"),
        ("shipped", "cancelled"),
        ("shipped", "paid"),
        ("delivered", "cancelled"),
        ("delivered", "shipped"),
        ("cancelled", "paid"),
        ("cancelled", "pending"),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(start, target):
    staff = StaffFactory()
    mug = ProductFactory(stock=5)
    order = OrderFactory(lines=[(mug, 2)])
    path = {
        "pending": [],
        "paid": ["paid"],
        "shipped": ["paid", "shipped"],
        "delivered": ["paid", "shipped", "delivered"],
        "cancelled": ["cancelled"],
    }[start]
    for status in path:
        services.change_order_status(order=order, status=status, user=staff)
    stock_before, history_before = stock_of(mug), order.history.count()

    with pytest.raises(InvalidTransition):
        services.change_order_status(order=order, status=target, user=staff)

    order.refresh_from_db()
    assert order.status == start
    assert (stock_of(mug), order.history.count()) == (stock_before, history_before)


def test_only_staff_change_an_orders_status():
    order = OrderFactory()

    with pytest.raises(PermissionDenied):
        services.change_order_status(order=order, status="paid", user=order.user)


def test_staff_marking_an_order_paid_records_a_manual_payment_of_its_total():
    order = OrderFactory()
    staff = StaffFactory(email="clerk@example.com")

    services.change_order_status(order=order, status="paid", user=staff)

    order.refresh_from_db()
    payment = order.payments.get()
    assert order.status == Status.PAID
    assert (payment.gateway, payment.outcome, payment.amount, payment.by) == (
        "manual",
        "approved",
        order.total,
        staff,
    )


def test_allowed_transitions_depend_on_who_asks():
    order = OrderFactory()
    staff = StaffFactory()

    assert services.allowed_transitions(order=order, user=order.user) == ("cancelled",)
    assert services.allowed_transitions(order=order, user=UserFactory()) == ()
    assert services.allowed_transitions(order=order, user=staff) == (
        "paid",
        "cancelled",
    )


# --- Payments ------------------------------------------------------------------


def test_paying_records_the_attempt_then_the_answer_in_two_transactions(
    django_assert_num_queries,
):
    order = OrderFactory()

    # Each transaction a savepoint inside the test's. The attempt: the order
    # locked, no other attempt awaiting its answer, the attempt recorded. The
    # answer: the order locked again, the attempt updated, the order paid and
    # its history written.
    with django_assert_num_queries(11):
        pay(order)

    order.refresh_from_db()
    assert order.status == Status.PAID


def test_an_approved_card_pays_the_order():
    order = OrderFactory()

    paid = pay(order)

    assert paid.status == Status.PAID
    payment = order.payments.get()
    assert (payment.outcome, payment.amount, payment.currency, payment.gateway) == (
        "approved",
        order.total,
        "USD",
        "test-card",
    )
    assert payment.card_last4 == "4242"
    assert payment.reference.startswith("test_")
    assert [c.status for c in order.history.all()] == ["pending", "paid"]


def test_a_card_number_with_spaces_is_accepted_and_only_its_last_four_kept():
    order = OrderFactory()

    pay(order, card_number="4242 4242 4242 4242")

    assert order.payments.get().card_last4 == "4242"
    assert not Payment.objects.filter(card_last4__contains="42424242").exists()


def test_another_luhn_valid_number_is_approved():
    order = OrderFactory()

    pay(order, card_number="5555555555554444")

    order.refresh_from_db()
    assert order.status == Status.PAID
    assert order.payments.get().card_last4 == "4444"


def test_a_declined_card_leaves_the_order_pending_and_the_attempt_recorded():
    order = OrderFactory()

    with pytest.raises(PaymentDeclined) as refusal:
        pay(order, card_number=DECLINED_CARD)

    assert refusal.value.extra == {"outcome": "declined"}
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert list(order.payments.values_list("outcome", "card_last4")) == [
        ("declined", "0002")
    ]


def test_a_gateway_error_is_recorded_and_refused_as_declined():
    order = OrderFactory()

    with pytest.raises(PaymentDeclined) as refusal:
        pay(order, card_number=ERROR_CARD)

    assert refusal.value.extra == {"outcome": "error"}
    assert list(order.payments.values_list("outcome", flat=True)) == ["error"]


def test_a_declined_order_can_be_paid_with_another_card():
    order = OrderFactory()
    with pytest.raises(PaymentDeclined):
        pay(order, card_number=DECLINED_CARD)

    pay(order)

    order.refresh_from_db()
    assert order.status == Status.PAID
    assert list(order.payments.values_list("outcome", flat=True)) == [
        "declined",
        "approved",
    ]


@pytest.mark.parametrize(
    "card_number", ["4242424242424241", "4242", "abcd", "", "42424242424242424242"]
)
def test_a_card_number_failing_the_luhn_check_is_refused_before_any_charge(
    card_number,
):
    order = OrderFactory()

    with pytest.raises(ValidationError) as refusal:
        pay(order, card_number=card_number)

    assert list(refusal.value.message_dict) == ["card_number"]
    assert not order.payments.exists()


def test_an_unknown_payment_method_is_refused():
    order = OrderFactory()

    with pytest.raises(ValidationError) as refusal:
        services.pay_order(
            order=order,
            user=order.user,
            payment_method="bitcoin",
            card_number=APPROVED_CARD,
        )

    assert list(refusal.value.message_dict) == ["payment_method"]


def test_an_order_that_is_not_pending_cannot_be_paid():
    order = PaidOrderFactory()

    with pytest.raises(InvalidTransition):
        pay(order)

    assert order.payments.count() == 1


def test_a_cancelled_order_cannot_be_paid():
    order = OrderFactory()
    services.cancel_order(order=order, user=order.user)

    with pytest.raises(InvalidTransition):
        pay(order)

    assert not order.payments.exists()


def test_only_the_customer_pays_their_order():
    order = OrderFactory()

    with pytest.raises(PermissionDenied):
        services.pay_order(
            order=order,
            user=StaffFactory(),
            payment_method="test-card",
            card_number=APPROVED_CARD,
        )

    assert not order.payments.exists()


class ExplodingGateway(PaymentGateway):
    name = "exploding"
    methods = ("test-card",)

    def validate(self, *, payment_method, card_number):
        return card_number

    def charge(self, *, amount, currency, card_number, reference):
        raise ConnectionError("gateway unreachable")


class RecordingGateway(PaymentGateway):
    name = "recording"
    methods = ("test-card",)
    charges = []

    def validate(self, *, payment_method, card_number):
        return card_number

    def charge(self, *, amount, currency, card_number, reference):
        self.charges.append((amount, currency, reference))
        return ChargeResult("approved", "rec_1")


def test_a_gateway_that_raises_is_recorded_as_an_error(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.ExplodingGateway"
    order = OrderFactory()

    with pytest.raises(PaymentDeclined):
        pay(order)

    assert list(order.payments.values_list("gateway", "outcome")) == [
        ("exploding", "error")
    ]


def test_the_gateway_comes_from_settings_and_is_charged_the_order_total(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.RecordingGateway"
    RecordingGateway.charges.clear()
    order = OrderFactory()

    pay(order)

    assert RecordingGateway.charges == [(order.total, "USD", order.number)]
    assert order.payments.get().reference == "rec_1"


class WitnessGateway(TestCardGateway):
    """The test-card gateway, noting the order's payments as it charges."""

    seen = []

    def charge(self, **kwargs):
        self.seen.append(
            list(
                Payment.objects.filter(order__number=kwargs["reference"]).values_list(
                    "outcome", "amount", "card_last4"
                )
            )
        )
        return super().charge(**kwargs)


def test_the_attempt_is_recorded_before_the_gateway_is_called(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.WitnessGateway"
    WitnessGateway.seen.clear()
    order = OrderFactory()

    pay(order)

    assert WitnessGateway.seen == [[("processing", order.total, "4242")]]
    assert list(order.payments.values_list("outcome", flat=True)) == ["approved"]


class DyingGateway(TestCardGateway):
    """The process dies while the gateway charges: gunicorn ends a worker past
    its timeout with SystemExit."""

    def charge(self, **kwargs):
        raise SystemExit(1)


def die_while_paying(order, settings):
    """Leave an attempt at paying the order without an answer."""
    settings.PAYMENT_GATEWAY = f"{__name__}.DyingGateway"
    with pytest.raises(SystemExit):
        pay(order)
    settings.PAYMENT_GATEWAY = "orders.payments.TestCardGateway"


def attempts_made_ago(order, delay):
    Payment.objects.filter(order=order).update(created_at=timezone.now() - delay)


def test_an_attempt_without_an_answer_stays_recorded_as_processing(settings):
    order = OrderFactory()

    die_while_paying(order, settings)

    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert list(order.payments.values_list("outcome", "reference", "card_last4")) == [
        ("processing", "", "4242")
    ]


@pytest.mark.parametrize(
    "act",
    [
        lambda order: pay(order),
        lambda order: services.cancel_order(order=order, user=order.user),
        lambda order: services.cancel_order(order=order, user=StaffFactory()),
        lambda order: services.change_order_status(
            order=order, status="paid", user=StaffFactory()
        ),
    ],
    ids=["paid again", "cancelled", "cancelled by staff", "marked paid by staff"],
)
def test_an_attempt_awaiting_its_answer_holds_the_order(settings, act):
    product = ProductFactory(stock=5)
    order = OrderFactory(lines=[(product, 2)])
    die_while_paying(order, settings)

    with pytest.raises(InvalidTransition) as refusal:
        act(order)

    assert refusal.value.detail == (
        f"A payment of order {order.number} is being processed: try again in a moment."
    )
    assert refusal.value.extra == {"order_status": "pending"}
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert stock_of(product) == 3
    assert list(order.payments.values_list("outcome", flat=True)) == ["processing"]


def test_the_expiry_passes_by_an_order_whose_payment_awaits_its_answer(settings):
    order = OrderFactory()
    die_while_paying(order, settings)
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    expired = services.expire_unpaid_orders()

    assert expired == []
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_an_attempt_left_without_an_answer_holds_the_order_no_longer(settings):
    order = OrderFactory()
    die_while_paying(order, settings)
    attempts_made_ago(order, services.PAYMENT_ANSWER_TIMEOUT + timedelta(seconds=1))

    pay(order)

    order.refresh_from_db()
    assert order.status == Status.PAID
    assert list(order.payments.values_list("outcome", flat=True)) == [
        "processing",
        "approved",
    ]


class LateGateway(TestCardGateway):
    """Answers after PAYMENT_ANSWER_TIMEOUT, once staff cancelled the order."""

    def charge(self, **kwargs):
        order = Order.objects.get(number=kwargs["reference"])
        attempts_made_ago(order, services.PAYMENT_ANSWER_TIMEOUT)
        services.cancel_order(order=order, user=StaffFactory())
        return super().charge(**kwargs)


def test_an_approval_arriving_after_a_cancellation_is_kept_to_be_refunded(
    settings, caplog
):
    settings.PAYMENT_GATEWAY = f"{__name__}.LateGateway"
    order = OrderFactory()

    with (
        caplog.at_level("ERROR", logger="orders.services"),
        pytest.raises(InvalidTransition) as refusal,
    ):
        pay(order)

    payment = order.payments.get()
    assert payment.outcome == "approved"
    assert refusal.value.detail == (
        f"Order {order.number} became cancelled while your payment was processed: "
        "the charge will be refunded."
    )
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert [
        record.getMessage()
        for record in caplog.records
        if record.name == "orders.services"
    ] == [
        f"Payment {payment.reference} of order {order.number} approved after the "
        "order became cancelled: refund it"
    ]
