"""The cart page's forms: they read what was typed; carts.services decides."""

from django import forms

from carts.models import MAX_LINE_QUANTITY
from carts.services import QUANTITY_NOT_WHOLE

# The largest id PostgreSQL's bigint holds: a larger "product" is refused by
# the form rather than sent to the database.
MAX_ID = 2**63 - 1

QUANTITY_ERRORS = {
    "required": "Enter a quantity.",
    "invalid": QUANTITY_NOT_WHOLE,
    "min_value": QUANTITY_NOT_WHOLE,
    "max_value": f"Enter at most {MAX_LINE_QUANTITY}.",
}


def quantity_field():
    return forms.IntegerField(
        label="Quantity",
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        error_messages=QUANTITY_ERRORS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class AddItemForm(forms.Form):
    """The product page's `Add to cart` form."""

    product = forms.IntegerField(
        min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    # The chosen variant; left out for a product that has only one.
    variant = forms.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )
    quantity = quantity_field()


class SetQuantityForm(forms.Form):
    """A cart line's `Quantity` and `Update`."""

    quantity = quantity_field()

    def __init__(self, *args, item, **kwargs):
        # One form per line on the page: ids and error ids name the line.
        kwargs.setdefault("auto_id", f"line-{item.pk}-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.item = item


class VoucherForm(forms.Form):
    """The cart page's voucher code."""

    code = forms.CharField(
        label="Voucher code",
        max_length=50,
        error_messages={"required": "Enter a voucher code."},
    )
