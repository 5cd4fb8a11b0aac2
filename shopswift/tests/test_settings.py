"""Production mode refuses an insecure configuration, with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "-production-secret-key-of-sufficient-length"


def run_manage(*args, **env):
    """Run `manage.py` on the real settings module with only this env."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_"))
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="shopswift.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_check(**env):
    return run_manage("check", **env)


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DJANGO_ALLOWED_HOSTS="shop.example.com")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS" not in result.stderr


@pytest.mark.parametrize(
    "key", ["short", "django-insecure-" + "x" * 60], ids=["short", "insecure"]
)
def test_production_refuses_a_weak_secret_key(key):
    result = run_check(DJANGO_SECRET_KEY=key, DJANGO_ALLOWED_HOSTS="shop.example.com")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_check(DJANGO_SECRET_KEY=GOOD_KEY)

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_production_starts_with_a_secret_key_and_allowed_hosts():
    result = run_check(
        DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_ALLOWED_HOSTS="shop.example.com"
    )

    assert result.returncode == 0, result.stderr


def test_development_mode_needs_no_configuration():
    result = run_check(DJANGO_DEBUG="true")

    assert result.returncode == 0, result.stderr


def test_a_malformed_boolean_is_refused_by_name():
    result = run_check(DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


@pytest.mark.parametrize(
    "store_url", ["shop.example.com", "ftp://shop.example.com", "https://"]
)
def test_a_store_url_that_is_not_an_http_address_is_refused(store_url):
    result = run_check(DJANGO_DEBUG="true", STORE_URL=store_url)

    assert result.returncode != 0
    assert "STORE_URL must be the store's address" in result.stderr


def mail_backend(**env):
    """The default mailer's backend on the real settings module with this env."""
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; "
        "print(settings.MAILERS['default']['BACKEND'])",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_emails_are_printed_whole_only_in_development():
    assert mail_backend(DJANGO_DEBUG="true") == (
        "django.core.mail.backends.console.EmailBackend"
    )


def test_production_without_an_smtp_host_sends_no_email_and_prints_none():
    backend = mail_backend(
        DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_ALLOWED_HOSTS="shop.example.com"
    )

    assert backend == "django.core.mail.backends.dummy.EmailBackend"


def test_production_with_an_smtp_host_sends_over_smtp():
    backend = mail_backend(
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        EMAIL_HOST="smtp.example.com",
    )

    assert backend == "django.core.mail.backends.smtp.EmailBackend"
