from django.db import transaction

from carts.models import Cart


def get_user_cart(*, user) -> Cart:
    """Return the user's cart, created empty on first use."""
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


@transaction.atomic
def clear_cart(*, cart: Cart) -> None:
    """Remove every line of the cart."""
    cart.items.all().delete()
    cart.save(update_fields=["updated_at"])
