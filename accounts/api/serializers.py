"""The accounts API's representations and inputs.

Serializers validate shapes only; the rules (unique email, password
validators, current password) live in accounts.services.
"""

from rest_framework import serializers

from accounts.models import User

USER_FIELDS = ["id", "email", "first_name", "last_name", "is_staff", "date_joined"]


class UserSerializer(serializers.ModelSerializer):
    """A user as the contract shows one: never a password or its hash."""

    class Meta:
        model = User
        fields = USER_FIELDS
        read_only_fields = USER_FIELDS


class ProfileUpdateSerializer(serializers.Serializer):
    """What users may change about themselves: not `is_staff`."""

    # Plain fields: uniqueness (case-insensitive) is the service's to check.
    email = serializers.EmailField(max_length=254, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class StaffUserUpdateSerializer(ProfileUpdateSerializer):
    """What staff may change about any user."""

    is_staff = serializers.BooleanField(required=False)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    first_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default=""
    )
    last_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default=""
    )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True)
