"""The accounts API's representations and inputs.

Serializers validate shapes only; the rules (unique email, password
validators, current password) live in accounts.services.
"""

from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers

from accounts.models import Address, User
from core.text import PrintableTextValidator

USER_FIELDS = ["id", "email", "first_name", "last_name", "is_staff", "date_joined"]


def name_field(**kwargs):
    """A first or last name: printable, at most 150 characters, may be blank."""
    return serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        validators=[PrintableTextValidator()],
        **kwargs,
    )


def password_field(**kwargs):
    """A password as typed: never shown back, white space kept."""
    return serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        **kwargs,
    )


class UserSerializer(serializers.ModelSerializer):
    """A user as the contract shows one: never a password or its hash."""

    class Meta:
        model = User
        fields = USER_FIELDS
        read_only_fields = USER_FIELDS


class ProfileSerializer(UserSerializer):
    """A services.ProfileChange: the caller's user and the address it awaits."""

    pending_email = serializers.EmailField(
        read_only=True,
        allow_null=True,
        help_text="The new address a confirmation link was sent to; `email` "
        "changes once the link is opened. Null when no new address was asked "
        "for.",
    )

    class Meta(UserSerializer.Meta):
        fields = [*USER_FIELDS, "pending_email"]
        read_only_fields = fields

    def to_representation(self, instance):
        return {
            **UserSerializer(instance.user).data,
            "pending_email": instance.pending_email,
        }


class ProfileFieldsSerializer(serializers.Serializer):
    # Plain fields: uniqueness (case-insensitive) is the service's to check.
    email = serializers.EmailField(max_length=254, required=False)
    first_name = name_field()
    last_name = name_field()


class ProfileUpdateSerializer(ProfileFieldsSerializer):
    """What users may change about themselves: not `is_staff`."""

    current_password = password_field(
        required=False, help_text="Needed with a new `email`."
    )


class StaffUserUpdateSerializer(ProfileFieldsSerializer):
    """What staff may change about a user; the ranks only a superuser may."""

    is_staff = serializers.BooleanField(required=False)
    is_superuser = serializers.BooleanField(required=False)


def cart_token_field():
    return serializers.CharField(
        required=False,
        write_only=True,
        max_length=64,
        help_text="A guest's cart token: its cart joins the account's.",
    )


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field()
    first_name = name_field(default="")
    last_name = name_field(default="")
    cart_token = cart_token_field()


class LoginSerializer(jwt_serializers.TokenObtainPairSerializer):
    """simplejwt's email and password, and a guest's cart to bring along."""

    cart_token = cart_token_field()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True)


class AddressSerializer(serializers.ModelSerializer):
    """An address of the caller's address book.

    Shapes only: accounts.services checks the fields (country code,
    postal code of that country, phone) as it does an order's address.
    """

    country = serializers.CharField(
        max_length=2,
        help_text="ISO 3166-1 alpha-2 code, such as US or DE (any case).",
    )
    is_default_shipping = serializers.BooleanField(
        required=False,
        help_text="The address checkout offers first; setting it on one "
        "address clears it on the others. The first address is the default.",
    )

    class Meta:
        model = Address
        fields = [
            "id",
            "full_name",
            "line1",
            "line2",
            "city",
            "postal_code",
            "country",
            "phone",
            "is_default_shipping",
        ]
