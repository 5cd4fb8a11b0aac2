"""E-mail addresses in log lines are masked."""

import pytest

from core.mail import mask_address


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("ada@example.com", "a***@example.com"),
        ("a@example.com", "a***@example.com"),
        ("first.last+shop@mail.example.co.uk", "f***@mail.example.co.uk"),
        ("not-an-address", "***"),
    ],
)
def test_an_address_keeps_its_domain_and_first_letter(address, masked):
    assert mask_address(address) == masked
