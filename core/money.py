"""Money is a Decimal end to end, rounded to whole cents at the edges."""

from decimal import Decimal

CENT = Decimal("0.01")


def quantize_money(amount: Decimal) -> Decimal:
    """Round an amount to whole cents, as prices and totals are stored."""
    return amount.quantize(CENT)
