from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError

from accounts.tests.factories import UserFactory
from carts.models import Cart, CartItem
from carts.tests.factories import CartFactory, CartItemFactory
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("quantity", [0, 1001])
def test_the_database_refuses_a_line_quantity_outside_1_to_1000(quantity):
    with pytest.raises(IntegrityError, match="carts_item_quantity_range"):
        CartItemFactory(quantity=quantity)


def test_the_database_refuses_a_second_line_for_the_same_product():
    line = CartItemFactory()

    with pytest.raises(IntegrityError, match="carts_item_one_line_per_product"):
        CartItem.objects.create(cart=line.cart, product=line.product, quantity=1)


def test_a_cart_reads_as_its_owner():
    cart = CartFactory(user__email="ada@example.com")

    assert str(cart) == f"Cart {cart.pk} of ada@example.com"
    assert str(CartFactory(user=None)).endswith("of anonymous")


def test_lines_of_user_reads_the_cart_its_lines_and_their_products_in_order():
    cart = CartFactory()
    mug = ProductFactory(
        slug="mug", name="Mug", price=Decimal("3.50"), stock=4, is_active=False
    )
    tea = ProductFactory(slug="tea", name="Tea", price=Decimal("0.10"), stock=0)
    later = CartItemFactory(cart=cart, product=mug, quantity=2)
    earlier = CartItemFactory(cart=cart, product=tea, quantity=1)
    CartItem.objects.filter(pk=earlier.pk).update(
        created_at=later.created_at - timedelta(seconds=1)
    )
    CartItemFactory()  # another cart's line

    rows = Cart.objects.lines_of_user(cart.user.pk)

    cart.refresh_from_db()
    owner = {
        "user_id": cart.user.pk,
        "user_is_active": True,
        "cart_id": cart.pk,
        "cart_updated_at": cart.updated_at,
    }
    assert rows == [
        {
            **owner,
            "item_id": earlier.pk,
            "quantity": 1,
            "product_id": tea.pk,
            "product_slug": "tea",
            "product_name": "Tea",
            "product_price": Decimal("0.10"),
            "product_image": "",
            "product_stock": 0,
            "product_is_active": True,
        },
        {
            **owner,
            "item_id": later.pk,
            "quantity": 2,
            "product_id": mug.pk,
            "product_slug": "mug",
            "product_name": "Mug",
            "product_price": Decimal("3.50"),
            "product_image": "",
            "product_stock": 4,
            "product_is_active": False,
        },
    ]


def test_lines_of_user_reads_one_row_for_an_empty_cart():
    cart = CartFactory()

    rows = Cart.objects.lines_of_user(cart.user.pk)

    assert [(row["cart_id"], row["item_id"]) for row in rows] == [(cart.pk, None)]


def test_lines_of_user_reads_the_user_without_a_cart_or_nothing_without_a_user():
    user, gone = UserFactory(is_active=False), UserFactory()
    gone_id = gone.pk
    gone.delete()

    rows = Cart.objects.lines_of_user(user.pk)

    assert [
        (row["user_id"], row["user_is_active"], row["cart_id"]) for row in rows
    ] == [(user.pk, False, None)]
    assert Cart.objects.lines_of_user(gone_id) == []
