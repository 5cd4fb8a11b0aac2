import factory

from accounts.tests.factories import UserFactory
from carts.models import Cart, CartItem
from catalog.tests.factories import ProductFactory


class CartFactory(factory.django.DjangoModelFactory):
    """A customer's cart; `user=None` makes an anonymous session cart."""

    class Meta:
        model = Cart

    user = factory.SubFactory(UserFactory)


class CartItemFactory(factory.django.DjangoModelFactory):
    """A line of 1 unit of a product with 10 in stock.

    Made directly, without the stock check of carts.services, so a test can
    also arrange a line that the stock no longer covers. `product` names a
    product whose one variant the line holds; `variant`, any variant.
    """

    class Meta:
        model = CartItem
        exclude = ["product"]

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    variant = factory.LazyAttribute(lambda line: line.product.variants.get())
    quantity = 1
