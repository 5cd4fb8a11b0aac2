from django.contrib.auth import get_user_model
from django_filters import rest_framework as filters

from orders.models import Order


class OrderFilter(filters.FilterSet):
    """`status` and `user` (an id); a bad or unknown value is a 400."""

    status = filters.ChoiceFilter(
        choices=Order.Status.choices, label="Only orders with this status."
    )
    user = filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(),
        label="Only this customer's orders (a user id). Staff only in effect: a "
        "customer sees their own orders whatever it says.",
    )

    class Meta:
        model = Order
        fields: list[str] = []
