"""The pricing rules for a country in one statement: its shipping methods,
its tax rates and the promotions in force.

The cart's read and checkout's hot path (bench/README.md says why): the
statement names tables and columns through the models' `_meta`, and
pricing/tests/test_queries.py proves it equal to the services' ORM reads
(shipping_methods_for, tax_rates_for, promotions_in_force).
"""

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connections
from django.db.models import Field, Model

from catalog.models import Category
from pricing import pipeline
from pricing.models import Promotion, ShippingMethod, ShippingZone, TaxRate


@dataclass(frozen=True)
class PricingRules:
    """What prices a cart for one country."""

    country: str
    # Every method of the zones holding the country, cheapest first.
    methods: Sequence[ShippingMethod]
    tax_rates: dict[str, Decimal]
    promotions: Sequence[pipeline.PromotionTerms]

    def methods_for(self, weight: int) -> list[ShippingMethod]:
        """The methods that take an order of `weight` grams."""
        return [method for method in self.methods if method.carries(weight)]


@functools.cache
def rules_sql() -> str:
    """The statement: the methods, rates and promotions as three JSON texts.

    Binds the country twice, then the moment twice (the promotions' window).
    """
    quote = connections[ShippingMethod.objects.db].ops.quote_name

    def table(model: type[Model]) -> str:
        return quote(model._meta.db_table)

    def column(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        # Concrete fields, a foreign key's too: each has its column.
        assert isinstance(field, Field)
        assert field.column is not None
        return f"{table(model)}.{quote(field.column)}"

    def fields(model: type[Model], names: Sequence[str]) -> str:
        return ", ".join(f"'{name}', {column(model, name)}" for name in names)

    method_fields = fields(
        ShippingMethod,
        ["id", "code", "name", "price", "free_above", "estimated_days", "max_weight"],
    )
    method_order = ", ".join(
        column(ShippingMethod, name) for name in ["price", "name", "id"]
    )
    methods = (
        f"SELECT COALESCE(json_agg(json_build_object({method_fields},"  # nosec B608
        f" 'zone_id', {column(ShippingMethod, 'zone')}) ORDER BY {method_order}),"
        f" '[]')::text FROM {table(ShippingMethod)} JOIN {table(ShippingZone)}"
        f" ON {column(ShippingZone, 'id')} = {column(ShippingMethod, 'zone')}"
        f" WHERE {column(ShippingZone, 'countries')} @> ARRAY[%s]::varchar(2)[]"
    )
    rates = (
        f"SELECT COALESCE(json_object_agg({column(TaxRate, 'tax_class')},"  # nosec B608
        f" {column(TaxRate, 'rate')}), '{{}}')::text FROM {table(TaxRate)}"
        f" WHERE {column(TaxRate, 'country')} = %s"
    )

    def covered(relation: str) -> str:
        through = Promotion._meta.get_field(relation).remote_field.through  # type: ignore[union-attr]
        own = through._meta.get_field("promotion")
        target = next(
            field
            for field in through._meta.get_fields()
            if field.is_relation and field.name not in ("promotion",)
        )
        return (
            f"ARRAY(SELECT {quote(target.column)} FROM {table(through)}"  # nosec B608
            f" WHERE {quote(own.column)} = {column(Promotion, 'id')})"
        )

    promotion_fields = fields(
        Promotion,
        ["id", "name", "kind", "value", "buy_quantity", "pay_quantity", "stackable"],
    )
    promotion_order = ", ".join(column(Promotion, name) for name in ["starts_at", "id"])
    promotions = (
        f"SELECT COALESCE(json_agg(json_build_object({promotion_fields},"  # nosec B608
        f" 'products', {covered('products')}, 'categories', {covered('categories')})"
        f" ORDER BY {promotion_order}), '[]')::text FROM {table(Promotion)}"
        f" WHERE {column(Promotion, 'is_active')}"
        f" AND {column(Promotion, 'starts_at')} <= %s"
        f" AND ({column(Promotion, 'ends_at')} IS NULL"
        f" OR {column(Promotion, 'ends_at')} > %s)"
    )
    return f"SELECT ({methods}), ({rates}), ({promotions})"


def rules_for(country: str, *, now: datetime) -> PricingRules:
    """The rules for `country` (an upper-case ISO code) at `now`: one query,
    and one more for the category tree when a promotion names categories."""
    with connections[ShippingMethod.objects.db].cursor() as cursor:
        cursor.execute(rules_sql(), [country, country, now, now])
        methods_text, rates_text, promotions_text = cursor.fetchone()
    methods = [
        ShippingMethod(**row) for row in json.loads(methods_text, parse_float=Decimal)
    ]
    for method in methods:
        for name in ("price", "free_above"):
            value = getattr(method, name)
            if value is not None:
                setattr(method, name, Decimal(value).quantize(pipeline.CENT))
    rates = {
        tax_class: Decimal(rate).quantize(pipeline.CENT)
        for tax_class, rate in json.loads(rates_text, parse_float=Decimal).items()
    }
    rows = json.loads(promotions_text, parse_float=Decimal)
    subtrees = None
    if any(row["categories"] for row in rows):
        subtrees = Category.objects.subtree_ids_by_id()
    promotions = []
    for row in rows:
        categories: set[int] = set()
        for category_id in row["categories"]:
            categories |= (subtrees or {}).get(category_id, {category_id})
        promotions.append(
            pipeline.PromotionTerms(
                id=row["id"],
                name=row["name"],
                kind=row["kind"],
                value=Decimal(row["value"]).quantize(pipeline.CENT),
                buy=row["buy_quantity"] or 0,
                pay=row["pay_quantity"] or 0,
                stackable=row["stackable"],
                product_ids=frozenset(row["products"]),
                category_ids=frozenset(categories),
            )
        )
    return PricingRules(country, methods, rates, promotions)
