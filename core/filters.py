"""What the apps' FilterSets share."""

import django_filters


class StableOrderingFilter(django_filters.OrderingFilter):
    """An ordering ending with a unique key, so pages never repeat or skip a row.

    `tie_breaker` is that key (`"pk"`, `"-id"`), last in every ordering asked for.
    """

    def __init__(self, *args, tie_breaker, **kwargs):
        super().__init__(*args, **kwargs)
        self.tie_breaker = tie_breaker

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, self.tie_breaker)
        return qs
