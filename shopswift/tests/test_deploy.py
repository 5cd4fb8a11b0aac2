"""Production settings pass Django's deployment checklist; pages carry a CSP."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]

SITE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def production_env(**overrides):
    """The environment of a production process: only what an operator sets."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "SENTRY_", "METRICS_")
        )
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="shopswift.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shopswift@db.internal:5432/shopswift",
        REDIS_URL="redis://cache.internal:6379/0",
        EMAIL_HOST="smtp.example.com",
        STORE_URL="https://shop.example.com",
    )
    environment.update(overrides)
    return environment


def run_manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_deploy_check_is_clean_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_deploy_check_on_plain_http_silences_only_the_https_warnings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_HTTPS="false"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (4 silenced)."


def test_deploy_check_on_plain_http_still_reports_other_problems():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_HTTPS="false",
        EMAIL_HOST="",
    )

    assert result.returncode == 1
    assert "mail.E001" in result.stderr
    assert "security.W0" not in result.stderr


@pytest.mark.parametrize(
    "store_url", [None, "http://127.0.0.1:8000", "http://localhost:8000/shop"]
)
def test_deploy_check_warns_when_emails_would_link_to_this_machine(store_url):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", STORE_URL=store_url or ""
    )

    assert result.returncode == 1
    assert "shopswift.W001" in result.stderr
    assert "STORE_URL" in result.stderr


def test_deploy_check_warns_without_database_url():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DATABASE_URL="")

    assert result.returncode == 1
    assert "shopswift.W002" in result.stderr
    assert "DATABASE_URL is unset" in result.stderr


def test_site_pages_carry_the_strict_content_security_policy(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == SITE_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_api_docs_relax_only_styles_and_images_and_run_no_inline_script(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert len(scripts) == 3
    assert all('src="/' in attributes for attributes in scripts)


def test_api_docs_set_up_script_is_served_from_this_origin(client):
    response = client.get("/api/docs/", {"script": ""})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert b"SwaggerUIBundle(" in response.content


def test_csrf_cookie_is_http_only(client):
    response = client.get("/api/docs/", {"script": ""})

    assert response.cookies["csrftoken"]["httponly"] is True


# --- Static files -----------------------------------------------------------------


def test_pages_link_static_files_by_content_hash(client):
    response = client.get("/")

    assert re.search(
        r'href="/static/css/site\.[0-9a-f]{12}\.css"', response.content.decode()
    )


def test_whitenoise_serves_hashed_static_files_compressed_and_cached_for_good(
    client,
):
    page = client.get("/").content.decode()
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)[1]

    response = client.get(stylesheet, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"


def test_a_missing_static_file_is_404(client):
    response = client.get("/static/css/nope.css")

    assert response.status_code == 404
