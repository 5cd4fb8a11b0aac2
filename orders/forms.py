"""The checkout and payment forms of the pages.

They read what was typed and say what is missing; the rules (addresses,
totals, stock, payments) are orders.services' and orders.addresses', whose
errors the views put beside the fields.
"""

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from orders.addresses import FIELDS, clean_shipping_address
from orders.services import IDEMPOTENCY_KEY_MAX_LENGTH, NOTE_MAX_LENGTH

SAVED = "saved"
NEW = "new"
OUT_OF_DATE = "This page was out of date. Check your order below, then place it again."
TYPED_WITH_SAVED = (
    "You typed a new address: choose “A new address” to ship there, or clear "
    "the address fields to use your saved one."
)
# What the page's hidden idempotency key may hold (printable ASCII).
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")


def address_field(
    name: str,
    label: str,
    autocomplete: str,
    help_text: str = "",
    input_type: str = "text",
) -> forms.CharField:
    """A field of the shipping address; its label is the contract's."""
    required, longest = FIELDS[name]
    return forms.CharField(
        label=label,
        max_length=longest,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={"autocomplete": f"shipping {autocomplete}", "type": input_type}
        ),
    )


def format_address(address: Mapping[str, str]) -> str:
    """A saved address on one line: name, street, town, country."""
    town = " ".join(
        part for part in (address.get("postal_code"), address.get("city")) if part
    )
    parts = [
        address.get("full_name"),
        address.get("line1"),
        address.get("line2"),
        town,
        address.get("country"),
    ]
    return ", ".join(part for part in parts if part)


class CheckoutForm(forms.Form):
    """Where to ship, an optional note, and the page's hidden total and key.

    Given the `saved_address` of the shopper's last order, the form offers
    it (`address`: saved or new); the typed fields are then needed only for
    a new address.
    """

    address = forms.ChoiceField(
        label="Ship to", widget=forms.RadioSelect, required=False
    )
    full_name = address_field("full_name", "Full name", "name")
    line1 = address_field("line1", "Address line 1", "address-line1")
    line2 = address_field("line2", "Address line 2", "address-line2", "Optional.")
    city = address_field("city", "City", "address-level2")
    postal_code = address_field("postal_code", "Postal code", "postal-code")
    country = address_field(
        "country", "Country", "country", "The two-letter code, such as US, GB or DE."
    )
    phone = address_field("phone", "Phone", "tel", "Optional: for the courier.", "tel")
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text="Optional: anything the courier should know.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The page renders these two from its own figures (see the template).
    expected_total = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, saved_address: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.saved_address = saved_address
        if saved_address is None:
            del self.fields["address"]
            return
        address = self.fields["address"]
        assert isinstance(address, forms.ChoiceField)  # as the class declares it
        address.choices = [
            (SAVED, format_address(saved_address)),
            (NEW, "A new address (fill in below)"),
        ]
        address.initial = SAVED
        for name in FIELDS:
            self.fields[name].required = False

    @property
    def address_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FIELDS]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # Saved only when chosen: a page sent before the shopper's first
        # order (a double submit of it) offered no choice and typed one.
        if self.saved_address is not None and data.get("address") == SAVED:
            if any(str(self.data.get(name, "")).strip() for name in FIELDS):
                self.add_error("address", TYPED_WITH_SAVED)
            else:
                data["shipping_address"] = self.saved_address
        else:
            self._clean_typed_address(data)
        # The hidden fields are the page's own: an error in either (a NUL
        # character, an amount or key the page never shows) is a page tampered
        # with or out of date, said once at the top of the form.
        tampered = [
            name
            for name in ("expected_total", "idempotency_key")
            if self.errors.pop(name, None)
        ]
        total = data.get("expected_total")
        data["expected_total"] = self._clean_amount(total)
        if total and data["expected_total"] is None:
            tampered.append("expected_total")
        key = data.get("idempotency_key", "")
        if key and not KEY_PATTERN.fullmatch(key):
            tampered.append("idempotency_key")
        if tampered:
            self.add_error(None, OUT_OF_DATE)
        return data

    def _clean_typed_address(self, data: dict[str, Any]) -> None:
        typed = {name: data.get(name, "") for name in FIELDS}
        try:
            data["shipping_address"] = clean_shipping_address(typed)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                # A field's own error (too long, missing) says it already.
                if name not in self.errors:
                    self.add_error(name if name in self.fields else None, messages)

    def _clean_amount(self, value: str | None) -> Decimal | None:
        """The amount as a Decimal; None when empty or not a usable amount."""
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return None
        if not amount.is_finite() or amount < 0:
            return None
        return amount


class PayForm(forms.Form):
    card_number = forms.CharField(
        label="Card number",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric"}
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
