from decimal import Decimal

from django import template
from django.conf import settings
from django_countries import countries

register = template.Library()


@register.filter
def money(amount):
    """Format an amount in the store's currency: 1,299.00 USD."""
    if amount is None or amount == "":
        return ""
    return f"{Decimal(amount):,.2f}\N{NO-BREAK SPACE}{settings.STORE_CURRENCY}"


@register.filter
def percent(rate):
    """A tax rate as people read it: Decimal("20.00") → "20 %", 5.50 → "5.5 %"."""
    if rate is None or rate == "":
        return ""
    text = f"{Decimal(rate):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}\N{NO-BREAK SPACE}%"


@register.filter
def percents(rates):
    """Several rates: "20 %, 5 %"."""
    return ", ".join(percent(rate) for rate in rates)


@register.filter
def country_name(code):
    """A country's name from its ISO code: "GB" → "United Kingdom"."""
    return countries.name(code) or code
