import pytest
from django.db import IntegrityError

from carts.models import CartItem
from carts.tests.factories import CartFactory, CartItemFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("quantity", [0, 1001])
def test_the_database_refuses_a_line_quantity_outside_1_to_1000(quantity):
    with pytest.raises(IntegrityError, match="carts_item_quantity_range"):
        CartItemFactory(quantity=quantity)


def test_the_database_refuses_a_second_line_for_the_same_product():
    line = CartItemFactory()

    with pytest.raises(IntegrityError, match="carts_item_one_line_per_variant"):
        CartItem.objects.create(cart=line.cart, variant=line.variant, quantity=1)


def test_a_cart_reads_as_its_owner():
    cart = CartFactory(user__email="ada@example.com")

    assert str(cart) == f"Cart {cart.pk} of ada@example.com"
    assert str(CartFactory(user=None)).endswith("of anonymous")
