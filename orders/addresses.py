"""Shipping addresses: what an order accepts, checked the same for API and pages."""

import re

from django.core.exceptions import ValidationError

from core.text import CONTROL_MESSAGE, has_control_characters, normalize

# ISO 3166-1 alpha-2: the 249 officially assigned codes.
_ASSIGNED_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
    BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR
    CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
    SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR
    TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ASSIGNED_CODES.split())

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
POSTAL_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*")
PHONE_PATTERN = re.compile(r"\+?[0-9 ().-]+")
PHONE_DIGITS = (5, 20)


def clean_shipping_address(data: object) -> dict[str, str]:
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
            errors["country"] = [
                "Enter a two-letter ISO 3166-1 country code, such as US or DE."
            ]
    postal_code = address.get("postal_code", "")
    if (
        "postal_code" not in errors
        and postal_code
        and not POSTAL_CODE_PATTERN.fullmatch(postal_code)
    ):
        errors["postal_code"] = ["Use letters, digits, spaces and hyphens only."]
    phone = address.get("phone", "")
    if "phone" not in errors and phone:
        digits = sum(character.isdigit() for character in phone)
        if not PHONE_PATTERN.fullmatch(phone) or not (
            PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
        ):
            errors["phone"] = [
                "Enter a phone number: digits, spaces, + ( ) . - only, 5 to 20 digits."
            ]
