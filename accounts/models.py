from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_countries import countries

from accounts.addresses import FIELDS
from core.text import PrintableTextValidator, normalize_text_fields


def normalize_email(email: str | None) -> str:
    """Emails are compared and stored lower-cased, as the contract says."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser.")
        return self.create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email: str | None) -> "User":
        return self.get(email=normalize_email(email))


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account: a shopper, or staff when is_staff is set.

    The email address is the login; there is no username.
    """

    email = models.EmailField("email", max_length=254, unique=True)
    first_name = models.CharField(
        "first name",
        max_length=150,
        blank=True,
        validators=[PrintableTextValidator()],
    )
    last_name = models.CharField(
        "last name",
        max_length=150,
        blank=True,
        validators=[PrintableTextValidator()],
    )
    is_staff = models.BooleanField(
        "staff status",
        default=False,
        help_text="Staff can log into the admin and manage the store.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Untick instead of deleting an account: it can no longer log in.",
    )
    date_joined = models.DateTimeField("date joined", default=timezone.now)
    session_generation = models.PositiveIntegerField(
        "session generation",
        default=0,
        editable=False,
        help_text="Raised to end every page session of the user at once "
        "(sign out everywhere, a new email address).",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["-date_joined"]
        constraints = [
            # The database, not only the code, keeps emails unique in any case.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci")
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        normalize_text_fields(self)
        super().save(**kwargs)

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    def get_session_auth_hash(self) -> str:
        """Django's hash of the password, bound to the session generation too.

        A page session stores this hash at login and ends once it no longer
        matches: when the password changes (Django's rule) or the generation
        is raised. Generation 0 keeps Django's own hash, so sessions opened
        before the generation existed stay valid.
        """
        if not self.session_generation:
            return super().get_session_auth_hash()
        return self._generation_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        if not self.session_generation:
            yield from super().get_session_auth_fallback_hash()
            return
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._generation_hash(secret=secret)

    def _generation_hash(self, *, secret: str | bytes | None) -> str:
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}\n{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Address(models.Model):
    """An address a customer keeps in their address book to ship to.

    The fields are an order's shipping address's (accounts.addresses), and
    are written through accounts.services, which checks them. An order
    keeps its own copy: editing or deleting an address changes no order.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    full_name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    # ISO 3166-1 alpha-2, upper case.
    country = models.CharField(max_length=2)
    phone = models.CharField(max_length=30, blank=True)
    is_default_shipping = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "addresses"
        # The default first, then the newest.
        ordering = ["-is_default_shipping", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default_shipping=True),
                name="accounts_address_one_default_shipping",
            )
        ]

    def __str__(self) -> str:
        return ", ".join(
            part
            for part in (
                self.full_name,
                self.line1,
                self.line2,
                f"{self.postal_code} {self.city}",
                countries.name(self.country),
            )
            if part
        )

    def as_shipping_address(self) -> dict[str, str]:
        """The address as an order's shipping address holds it."""
        return {field: getattr(self, field) for field in FIELDS}
