from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIRequestFactory

from accounts.tests.factories import UserFactory
from carts import queries, services
from carts.api.serializers import CartSerializer
from carts.models import Cart, CartItem
from carts.queries import CartLine, CartLines
from carts.tests.factories import CartFactory, CartItemFactory
from catalog import services as catalog_services
from catalog.models import ProductImage
from catalog.tests.factories import ProductFactory, variant_of
from core.testing import assert_answer_matches

pytestmark = pytest.mark.django_db


def api_request():
    return APIRequestFactory().get("/api/v1/cart/")


def serialized(cart, request):
    cart = Cart.objects.with_lines().get(pk=cart.pk)
    return CartSerializer(cart, context={"request": request}).data


def test_the_cart_answer_is_cart_serializers_for_lines_and_warnings():
    shopper = UserFactory()
    cart = services.get_user_cart(user=shopper)
    pictured = ProductFactory(price=Decimal("3.50"), stock=5)
    # Its first picture is the cart's: by position, whatever the order added.
    ProductImage.objects.create(product=pictured, image="products/side.png", position=1)
    ProductImage.objects.create(product=pictured, image="products/mug.png", position=0)
    short, retired = ProductFactory(stock=5), ProductFactory(price=Decimal("0.10"))
    services.add_item(cart=cart, variant=variant_of(pictured), quantity=2)
    services.add_item(cart=cart, variant=variant_of(short), quantity=4)
    services.add_item(cart=cart, variant=variant_of(retired), quantity=3)
    catalog_services.take_stock(lines=[(variant_of(short).pk, 3)])
    catalog_services.update_product(product=retired, is_active=False)
    request = api_request()

    answer = queries.user_cart_representation(shopper, request=request)

    assert_answer_matches(answer, serialized(cart, request), "Cart")
    assert answer["items"][0]["product"]["image"] == (
        "http://testserver/media/products/mug.png"
    )
    assert [warning["code"] for warning in answer["warnings"]] == [
        "insufficient_stock",
        "inactive",
    ]


def test_the_empty_cart_answer_is_cart_serializers():
    cart = CartFactory()
    request = api_request()

    answer = queries.user_cart_representation(cart.user, request=request)

    assert_answer_matches(answer, serialized(cart, request), "Cart")
    assert (answer["items"], answer["subtotal"]) == ([], "0.00")


def test_the_cart_answer_creates_the_cart_on_first_use():
    shopper = UserFactory()

    answer = queries.user_cart_representation(shopper)

    cart = Cart.objects.get(user=shopper)
    assert_answer_matches(answer, serialized(cart, None), "Cart")


def test_read_cart_reads_the_cart_its_lines_and_their_products_in_order(
    django_assert_num_queries,
):
    cart = CartFactory()
    mug = ProductFactory(
        slug="mug", name="Mug", price=Decimal("3.50"), stock=4, is_active=False
    )
    tea = ProductFactory(slug="tea", name="Tea", price=Decimal("0.10"), stock=0)
    ProductImage.objects.create(product=mug, image="mug.png")
    later = CartItemFactory(cart=cart, product=mug, quantity=2)
    earlier = CartItemFactory(cart=cart, product=tea, quantity=1)
    CartItem.objects.filter(pk=earlier.pk).update(
        created_at=later.created_at - timedelta(seconds=1)
    )
    CartItemFactory()  # another cart's line

    with django_assert_num_queries(1):
        found = queries.read_cart(cart.user.pk)

    cart.refresh_from_db()
    assert found == CartLines(
        cart_id=cart.pk,
        token=None,
        updated_at=cart.updated_at,
        shipping_country="",
        shipping_method_id=None,
        voucher_id=None,
        lines=[
            CartLine(
                earlier.pk,
                1,
                tea.pk,
                "tea",
                "Tea",
                Decimal("0.10"),
                0,
                True,
                *(variant_of(tea).pk, tea.sku, {}, Decimal("0.10"), None, 0, True),
                None,
                tea.category_id,
                "standard",
                None,
            ),
            CartLine(
                later.pk,
                2,
                mug.pk,
                "mug",
                "Mug",
                Decimal("3.50"),
                4,
                False,
                *(variant_of(mug).pk, mug.sku, {}, Decimal("3.50"), None, 4, True),
                None,
                mug.category_id,
                "standard",
                "mug.png",
            ),
        ],
    )


def test_read_cart_reads_an_empty_cart_without_lines():
    cart = CartFactory()

    found = queries.read_cart(cart.user.pk)

    assert (found.cart_id, found.lines) == (cart.pk, [])


def test_read_cart_reads_nothing_for_a_user_without_a_cart():
    assert queries.read_cart(UserFactory().pk) is None
