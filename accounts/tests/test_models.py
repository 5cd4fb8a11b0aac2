import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management import call_command
from django.db import IntegrityError
from django.test import override_settings

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from shopswift import settings as production_settings

pytestmark = pytest.mark.django_db


def test_user_model_is_the_custom_email_user():
    assert get_user_model() is User
    assert User.USERNAME_FIELD == "email"
    assert not hasattr(User, "username")


def test_create_user_stores_email_lower_cased():
    user = User.objects.create_user("  Ada.Lovelace@Example.COM ", "s3cret-pass-word")

    user.refresh_from_db()
    assert user.email == "ada.lovelace@example.com"
    assert user.is_staff is False
    assert user.is_superuser is False


def test_email_is_unique_whatever_its_case():
    UserFactory(email="grace@example.com")

    with pytest.raises(IntegrityError):
        UserFactory(email="GRACE@example.com")


def test_database_refuses_a_case_variant_written_around_the_model():
    user = UserFactory(email="alan@example.com")
    other = UserFactory(email="other@example.com")

    # A raw UPDATE skips save(); the functional unique index still holds.
    with pytest.raises(IntegrityError):
        User.objects.filter(pk=other.pk).update(email="ALAN@example.com")
    assert user.email == "alan@example.com"


def test_login_by_email_in_any_case():
    user = UserFactory(email="linus@example.com")

    authenticated = authenticate(email="LINUS@Example.com", password=DEFAULT_PASSWORD)

    assert authenticated == user


def test_login_refuses_a_wrong_password():
    UserFactory(email="linus@example.com")

    assert authenticate(email="linus@example.com", password="wrong") is None


def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", "s3cret-pass-word")


def test_createsuperuser_runs_non_interactively_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")

    call_command("createsuperuser", interactive=False, verbosity=0)

    boss = User.objects.get(email="boss@example.com")
    assert boss.is_staff is True
    assert boss.is_superuser is True
    assert boss.check_password("a-long-admin-password")


def test_production_hashes_passwords_with_argon2():
    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")

    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        user = User.objects.create_user("hash@example.com", "s3cret-pass-word")

    assert user.password.startswith("argon2$")


def test_the_session_hash_is_djangos_until_the_generation_is_raised():
    user = UserFactory()
    djangos = AbstractBaseUser.get_session_auth_hash(user)

    first = user.get_session_auth_hash()
    user.session_generation = 1
    raised = user.get_session_auth_hash()

    # Sessions opened before the generation existed stay valid.
    assert first == djangos
    assert raised != djangos


def test_a_raised_generation_survives_a_rotation_of_the_secret_key(settings):
    user = UserFactory(session_generation=2)
    stored = user.get_session_auth_hash()

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-" + "y" * 40

    assert user.get_session_auth_hash() != stored
    assert stored in user.get_session_auth_fallback_hash()
