"""The checkout and payment forms of the pages.

They read what was typed and say what is missing; the rules (addresses,
totals, stock, payments) are orders.services' and accounts.addresses', whose
errors the views put beside the fields.
"""

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.addresses import FIELDS, clean_address
from accounts.forms import AddressFields, PlainLabels
from accounts.models import Address
from orders.services import IDEMPOTENCY_KEY_MAX_LENGTH, NOTE_MAX_LENGTH

NEW = "new"
OUT_OF_DATE_ADDRESS = (
    "This address is no longer in your address book: choose another, or a new one."
)
OUT_OF_DATE = "This page was out of date. Check your order below, then place it again."
TYPED_WITH_SAVED = (
    "You typed a new address: choose “A new address” to ship there, or clear "
    "the address fields to use your saved one."
)
# What the page's hidden idempotency key may hold (printable ASCII).
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")


class CheckoutForm(PlainLabels, AddressFields):
    """Where to ship, an optional note, and the page's hidden total and key.

    Given the shopper's address book (`addresses`), the form offers each
    address and a new one (`address`: an address id or "new"), the default
    chosen; the typed fields are then needed only for a new address, which
    `save_address` keeps in the book.
    """

    # A guest's: where the order's e-mails go.
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="For the order's confirmation and its link.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    address = forms.ChoiceField(
        label="Ship to",
        widget=forms.RadioSelect,
        required=False,
        # A page sent after the address was deleted, or made up.
        error_messages={"invalid_choice": OUT_OF_DATE_ADDRESS},
    )
    save_address = forms.BooleanField(
        label="Save this address in my address book", required=False, initial=True
    )
    shipping_method = forms.ChoiceField(
        label="Shipping method", widget=forms.RadioSelect, required=False
    )
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

    field_order = ["email", *FIELDS, "save_address", "note"]

    def __init__(
        self,
        *args: Any,
        addresses: Sequence[Address] = (),
        shipping_choices: Sequence[tuple[str, str]] = (),
        guest: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not guest:
            del self.fields["email"]
        else:
            # A guest has no address book to save to.
            del self.fields["save_address"]
        method = self.fields["shipping_method"]
        assert isinstance(method, forms.ChoiceField)  # as the class declares it
        if shipping_choices:
            method.choices = list(shipping_choices)
        else:
            del self.fields["shipping_method"]
        self.addresses = {str(address.pk): address for address in addresses}
        if not self.addresses:
            del self.fields["address"]
            return
        address = self.fields["address"]
        assert isinstance(address, forms.ChoiceField)  # as the class declares it
        address.choices = [
            *((pk, str(saved)) for pk, saved in self.addresses.items()),
            (NEW, "A new address (fill in below)"),
        ]
        # The book lists the default first.
        address.initial = next(iter(self.addresses))
        for name in FIELDS:
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        chosen = self.addresses.get(data.get("address") or "")
        if "address" in self.errors:
            pass  # a choice the page did not offer: said beside it already
        elif chosen is not None:
            if any(str(self.data.get(name, "")).strip() for name in FIELDS):
                self.add_error("address", TYPED_WITH_SAVED)
            else:
                data["shipping_address_id"] = chosen.pk
        elif self.addresses and data.get("address") != NEW:
            self.add_error("address", OUT_OF_DATE_ADDRESS)
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
        # Each shipping method's total is a hidden field of its own: the
        # page showed them all, and the shopper's choice picks one.
        method = data.get("shipping_method") or ""
        total = (
            self.data.get(f"expected_total_{method}")
            if method
            else data.get("expected_total")
        )
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
        typed = self.typed_address()
        try:
            data["shipping_address"] = clean_address(typed)
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
