"""Orders made the way shoppers make them: a cart, then checkout (and payment)."""

import factory

from accounts.tests.factories import UserFactory
from carts.models import CartItem
from carts.services import get_user_cart
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, TeeFactory, variant_row
from orders import services
from orders.models import Order
from orders.payments import TestCardGateway

APPROVED_CARD = TestCardGateway.APPROVED_NUMBER
DECLINED_CARD = TestCardGateway.DECLINED_NUMBER
ERROR_CARD = TestCardGateway.ERROR_NUMBER


def address(**changes):
    """A valid shipping address, with any field changed."""
    return {
        "full_name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": "Flat 3",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
        "phone": "+44 20 7946 0000",
        **changes,
    }


def red_tee():
    """A tee in red only: S at 15.00 (2 units) and M at 16.00 (1 unit)."""
    return TeeFactory(
        variants=[
            variant_row("Red", "S", price="15.00", stock=2),
            variant_row("Red", "M", price="16.00", stock=1),
        ]
    )


def fill_cart(user, *lines):
    """Put (product or variant, quantity) lines in the user's cart; return it.

    A product stands for its one variant.
    """
    cart = get_user_cart(user=user)
    for sold, quantity in lines:
        variant = sold if isinstance(sold, ProductVariant) else sold.variants.get()
        CartItem.objects.create(cart=cart, variant=variant, quantity=quantity)
    return cart


class OrderFactory(factory.django.DjangoModelFactory):
    """A pending order, placed through checkout from a cart of `lines`.

    Its stock is taken with a movement, so `reconcile_stock` holds. `lines`
    are (product, quantity) pairs; by default one unit of a 19.99 product.
    """

    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    lines = factory.LazyFunction(lambda: [(ProductFactory(), 1)])
    shipping_address = factory.LazyFunction(address)
    note = ""

    @classmethod
    def _create(cls, model_class, *, user, lines, shipping_address, note):
        fill_cart(user, *lines)
        return services.place_order(
            user=user, shipping_address=shipping_address, note=note
        ).order


def pay(order, card_number=APPROVED_CARD):
    """Pay an order as its customer would, with the test card gateway."""
    return services.pay_order(
        order=order,
        user=order.user,
        payment_method="test-card",
        card_number=card_number,
    )


class PaidOrderFactory(OrderFactory):
    """An order its customer has paid with the approved test card."""

    @classmethod
    def _create(cls, model_class, **kwargs):
        return pay(super()._create(model_class, **kwargs))
