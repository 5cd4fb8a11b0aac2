from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from orders.payments import TestCardGateway, get_gateway, luhn_valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4000000000000002", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4242424242424241", False),
        ("1234567812345678", False),
    ],
)
def test_luhn_check(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("4242424242424242", "approved"),
        ("4000000000000002", "declined"),
        ("4000000000000119", "error"),
        ("5555555555554444", "approved"),
    ],
)
def test_the_test_card_gateway_answers_by_card_number(number, outcome):
    gateway = TestCardGateway()

    result = gateway.charge(
        amount=Decimal("10.00"), currency="USD", card_number=number, reference="SW-1"
    )

    assert result.outcome == outcome
    assert result.reference.startswith("test_")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("4242 4242 4242 4242", "4242424242424242"),
        ("4242-4242-4242-4242", "4242424242424242"),
        (" 4242424242424242 ", "4242424242424242"),
    ],
)
def test_the_test_card_gateway_ignores_spaces_and_hyphens(raw, clean):
    assert (
        TestCardGateway().validate(payment_method="test-card", card_number=raw) == clean
    )


@pytest.mark.parametrize(
    "raw", ["4242424242424241", "42424242", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "4242x42424242424"]
)
def test_the_test_card_gateway_refuses_what_is_not_a_card_number(raw):
    with pytest.raises(ValidationError) as refusal:
        TestCardGateway().validate(payment_method="test-card", card_number=raw)

    assert refusal.value.message_dict == {
        "card_number": ["Enter a valid card number (12 to 19 digits)."]
    }


def test_the_gateway_keeps_only_the_last_four_digits():
    assert TestCardGateway().card_last4("4242424242424242") == "4242"


def test_the_default_gateway_is_the_test_card_gateway():
    assert isinstance(get_gateway(), TestCardGateway)
