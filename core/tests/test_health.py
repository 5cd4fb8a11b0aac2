import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_answers_ok_without_touching_services(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_cache_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok"},
    }


def test_readyz_is_503_naming_the_cache_when_redis_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["checks"] == {"database": "ok", "cache": "failing"}
    assert "cache" in body["detail"]


def test_readyz_is_503_naming_the_database_when_postgres_is_unreachable():
    # A separate process whose DATABASE_URL points at a port nothing listens on.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/readyz');"
        "print(r.status_code, json.dumps(r.json()['checks']))"
    )
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="shopswift.settings_test",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/shopswift",
        DATABASE_CONNECT_TIMEOUT="2",
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '503 {"database": "failing", "cache": "ok"}'
    )
