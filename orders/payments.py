"""Payment gateways: one small interface, chosen by the PAYMENT_GATEWAY setting.

`orders.services.pay_order` is the only caller. `TestCardGateway`, the
default, follows the common test-card convention and needs no network; what
a real gateway implements, and the test cards, are in docs/orders.md.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

APPROVED = "approved"
DECLINED = "declined"
ERROR = "error"


@dataclass(frozen=True)
class ChargeResult:
    outcome: str  # APPROVED, DECLINED or ERROR
    reference: str = ""  # the gateway's id of the charge
    message: str = ""  # why, in words a shopper may read

    @property
    def approved(self) -> bool:
        return self.outcome == APPROVED


class PaymentGateway:
    """The interface every gateway implements."""

    name = ""  # stored on each Payment
    methods: tuple[str, ...] = ()  # the `payment_method` values it accepts

    def validate(self, *, payment_method: str, card_number: str) -> str:
        """Return the card number (or token) to charge, cleaned.

        Raises ValidationError naming `payment_method` or `card_number`.
        """
        raise NotImplementedError

    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, reference: str
    ) -> ChargeResult:
        """Charge `amount` once; `reference` (the order number) goes on the charge."""
        raise NotImplementedError

    def card_last4(self, card_number: str) -> str:
        """The card's last four digits, the only part of it ever stored."""
        return card_number[-4:] if card_number.isdigit() else ""

    def check_method(self, payment_method: str) -> None:
        if payment_method not in self.methods:
            choices = ", ".join(f'"{method}"' for method in self.methods)
            raise ValidationError(
                {"payment_method": f"Choose one of the payment methods: {choices}."}
            )


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


class TestCardGateway(PaymentGateway):
    """The built-in gateway of test card numbers (see the module docstring)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    name = "test-card"
    methods = ("test-card",)
    APPROVED_NUMBER = "4242424242424242"
    DECLINED_NUMBER = "4000000000000002"
    ERROR_NUMBER = "4000000000000119"

    def validate(self, *, payment_method, card_number):
        self.check_method(payment_method)
        digits = "".join(str(card_number).replace("-", " ").split())
        if not (
            digits.isascii()
            and digits.isdigit()
            and 12 <= len(digits) <= 19
            and luhn_valid(digits)
        ):
            raise ValidationError(
                {"card_number": "Enter a valid card number (12 to 19 digits)."}
            )
        return digits

    def charge(self, *, amount, currency, card_number, reference):
        charge_id = f"test_{get_random_string(16)}"
        if card_number == self.DECLINED_NUMBER:
            return ChargeResult(DECLINED, charge_id, "The card was declined.")
        if card_number == self.ERROR_NUMBER:
            return ChargeResult(
                ERROR, charge_id, "The card could not be processed. Try again."
            )
        return ChargeResult(APPROVED, charge_id)


def get_gateway() -> PaymentGateway:
    """The gateway named by the PAYMENT_GATEWAY setting."""
    return import_string(settings.PAYMENT_GATEWAY)()
