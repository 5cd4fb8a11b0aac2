from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from accounts.models import User
from core.filters import StableOrderingFilter


def boolean_filter(*, label):
    """`true`/`false`; anything else is a 400 naming the parameter.

    django-filter's BooleanFilter would silently ignore `?is_staff=maybe`.
    The schema names the two strings it takes (from the model's boolean
    field, drf-spectacular would write `type: boolean` with a string enum).
    """
    true_false = filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        label=label,
    )
    schema = {"type": "string", "enum": ["true", "false"], "description": label}
    return extend_schema_field(schema)(true_false)


class UserFilter(filters.FilterSet):
    is_staff = boolean_filter(label="Staff (true) or customers (false).")
    is_active = boolean_filter(label="Active (true) or deactivated (false).")
    search = filters.CharFilter(
        method="filter_search",
        label="Part of the email, first or last name (case-insensitive).",
    )
    ordering = StableOrderingFilter(
        fields=["email", "last_name", "date_joined"],
        tie_breaker="pk",
        label="Sort by email, last_name or date_joined; `-` for descending.",
    )

    class Meta:
        model = User
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
        )
