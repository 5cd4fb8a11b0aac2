"""The shopper's account forms.

They validate what was typed; the rules (unique email, password validators,
current password) are accounts.services', whose errors the views put
beside the fields (core.pages.add_service_errors).
"""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django_countries import countries

from accounts import limits
from accounts.addresses import FIELDS
from core import mail, ratelimit
from core.text import PrintableTextValidator


class PlainLabels:
    """Labels read exactly as the contract names them: `Email`, not `Email:`.

    Browser tests and screen readers find the controls by these names.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def email_field(**kwargs):
    return forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


def name_field(label, autocomplete):
    return forms.CharField(
        label=label,
        max_length=150,
        required=False,
        validators=[PrintableTextValidator()],
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
    )


class LoginForm(PlainLabels, auth_forms.AuthenticationForm):
    """Django's login form, labelled `Email`, with failed logins limited.

    A limited attempt is refused before the password is checked;
    `retry_after` then tells the view what to answer.
    """

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    retry_after = None

    def clean(self):
        email = self.cleaned_data.get("username")
        if email and self.cleaned_data.get("password"):
            try:
                limits.check_login(self.request, email)
            except ratelimit.RateLimitExceeded as limited:
                self.retry_after = limited.retry_after
                raise ValidationError(
                    "Too many failed login attempts. Please try again in "
                    f"{limited.retry_after} seconds.",
                    code="throttled",
                ) from None
        try:
            return super().clean()
        except ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                limits.record_failed_login(self.request, email)
            raise


class RegistrationForm(PlainLabels, SetPasswordMixin, forms.Form):
    email = email_field()
    first_name = name_field("First name", "given-name")
    last_name = name_field("Last name", "family-name")
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autofocus"] = True

    def clean(self):
        self.validate_passwords()
        return super().clean()


class ProfileForm(PlainLabels, forms.Form):
    email = email_field(
        help_text="A new address takes effect once you open the link we send to it."
    )
    first_name = name_field("First name", "given-name")
    last_name = name_field("Last name", "family-name")
    current_password = forms.CharField(
        label="Current password, to change your email",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, **kwargs):
        # The password form beside it has a current_password too: distinct ids.
        kwargs.setdefault("auto_id", "id_profile_%s")
        super().__init__(*args, **kwargs)


class PasswordChangeForm(PlainLabels, SetPasswordMixin, forms.Form):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1, new_password2 = SetPasswordMixin.create_password_fields(
        label1="New password", label2="New password confirmation"
    )

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        return super().clean()


class PasswordResetForm(PlainLabels, auth_forms.PasswordResetForm):
    def send_mail(
        self,
        subject_template,
        email_template,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # Django's form logs a failed send itself (by user id), then this
        # line follows: the e-mail was handed over, not necessarily sent.
        super().send_mail(
            subject_template,
            email_template,
            context,
            from_email,
            to_email,
            html_email_template_name=html_email_template_name,
        )
        mail.log_email(template="password_reset", recipients=[to_email])


class SetPasswordForm(PlainLabels, auth_forms.SetPasswordForm):
    pass


# --- Addresses ----------------------------------------------------------------------


def address_field(
    name: str,
    label: str,
    autocomplete: str,
    help_text: str = "",
    input_type: str = "text",
) -> forms.CharField:
    """A field of a postal address; its label is the contract's."""
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


class CountryField(forms.ChoiceField):
    """The country, chosen from its name; sent as the ISO code (any case)."""

    def __init__(self, **kwargs):
        super().__init__(
            label="Country",
            choices=[("", "Choose a country"), *countries],
            widget=forms.Select(attrs={"autocomplete": "shipping country"}),
            # What a text field of the code would say of a value no option
            # sends (a page tampered with).
            validators=[
                MaxLengthValidator(FIELDS["country"][1]),
                ProhibitNullCharactersValidator(),
            ],
            **kwargs,
        )

    def to_python(self, value):
        return super().to_python(value).strip().upper()

    def valid_value(self, value):
        # Which codes are countries is accounts.addresses' to say, in the
        # words the API uses too.
        return True


class AddressFields(forms.Form):
    """The fields of a postal address, as checkout and the address book ask them.

    Shapes only: accounts.addresses checks the address (the postal code of
    its country and so on), through the service the view calls.
    """

    full_name = address_field("full_name", "Full name", "name")
    line1 = address_field("line1", "Address line 1", "address-line1")
    line2 = address_field("line2", "Address line 2", "address-line2", "Optional.")
    city = address_field("city", "City", "address-level2")
    postal_code = address_field("postal_code", "Postal code", "postal-code")
    country = CountryField()
    phone = address_field("phone", "Phone", "tel", "Optional: for the courier.", "tel")

    @property
    def address_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FIELDS]

    def typed_address(self) -> dict[str, str]:
        """The address fields as cleaned (check them with clean_address)."""
        return {name: self.cleaned_data.get(name) or "" for name in FIELDS}


class AddressForm(PlainLabels, AddressFields):
    """An address of the shopper's address book."""

    is_default_shipping = forms.BooleanField(
        label="Make this my default shipping address", required=False
    )
