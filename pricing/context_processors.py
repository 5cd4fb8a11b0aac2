"""What every page says about its prices: with or without tax."""

from django.conf import settings


def tax_display(request):
    return {"prices_include_tax": settings.PRICES_INCLUDE_TAX}
