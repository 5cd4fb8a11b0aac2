"""Pricing's refusals, shown by the API as the contract's problem+json."""

from core.exceptions import ShopError


class VoucherInvalid(ShopError):
    """The code is unknown, or the voucher cannot be used for this cart now.

    The detail says which (unknown, expired, used up, not applicable, below
    its minimum).
    """

    status = 400
    code = "voucher_invalid"
    default_detail = "This voucher cannot be used."


class VoucherExhausted(ShopError):
    """The voucher's last use went to another order while this one was placed."""

    status = 409
    code = "voucher_exhausted"
    default_detail = (
        "This voucher has just been used up: remove it from the cart to check "
        "out without it."
    )
