"""deploy/gunicorn.conf.py: several workers, one set of metrics, JSON access lines."""

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.testing import current_database_url
from shopswift.tests.test_deploy import BASE_DIR, production_env

pytestmark = pytest.mark.django_db

TOKEN = "gunicorn-test-token"


class Server:
    """A running gunicorn: its process, its address once known, its output files."""

    def __init__(self, process, stdout, stderr):
        self.process = process
        self.stdout = stdout
        self.stderr = stderr
        self.base_url = None

    def stop(self):
        """Stop gracefully, as an orchestrator does (SIGTERM); the exit code."""
        self.process.terminate()
        return self.process.wait(timeout=30)

    def get(self, path, **headers):
        request = urllib.request.Request(self.base_url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with two workers in production mode, on a port the system picks.

    A fixed port would clash when several test runs share a machine.
    """
    stdout = tmp_path / "stdout.log"
    stderr = tmp_path / "stderr.log"
    env = production_env(
        DJANGO_HTTPS="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        METRICS_TOKEN=TOKEN,
        DATABASE_URL=current_database_url(),
        STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_BIND="127.0.0.1:0",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="1",
    )
    # The cache in process memory: these servers share nothing but metrics.
    env.pop("REDIS_URL")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (tmp_path / "static").mkdir()
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "deploy/gunicorn.conf.py",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=err,
        )
        server = Server(process, stdout, stderr)
        try:
            deadline = time.monotonic() + 30
            while True:
                listening = re.search(
                    r"Listening at: (http://127\.0\.0\.1:\d+)", stderr.read_text()
                )
                if listening:
                    server.base_url = listening[1]
                    try:
                        server.get("/healthz")
                        break
                    except (urllib.error.URLError, ConnectionError):
                        pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{stderr.read_text()}")
                time.sleep(0.2)
            yield server
        finally:
            server.stop()


def test_metrics_add_up_the_requests_of_every_worker(gunicorn):
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: gunicorn.get("/healthz")[0], range(40)))

    _, text = gunicorn.get("/metrics", Authorization=f"Bearer {TOKEN}")

    assert statuses == [200] * 40
    # The probe that waited for the start-up answered once more.
    assert (
        'shopswift_http_request_duration_seconds_count{method="GET",status="200",'
        'view="healthz"} 41.0'
    ) in text.splitlines()
    assert "shopswift_orders_placed_total 0.0" in text.splitlines()


def test_every_request_is_one_json_line_on_stdout(gunicorn):
    gunicorn.get("/healthz", **{"X-Request-ID": "from-the-proxy-1"})
    gunicorn.get("/readyz", **{"X-Request-ID": "from-the-proxy-2"})
    time.sleep(0.2)

    lines = [json.loads(line) for line in gunicorn.stdout.read_text().splitlines()]

    access = {
        line["request_id"]: line
        for line in lines
        if line["logger"] == "shopswift.access"
    }
    assert access["from-the-proxy-1"]["path"] == "/healthz"
    assert access["from-the-proxy-2"]["path"] == "/readyz"
    assert access["from-the-proxy-2"]["status"] == 200


def test_a_graceful_stop_exits_cleanly_without_a_traceback(gunicorn):
    gunicorn.get("/healthz")

    exit_code = gunicorn.stop()

    output = gunicorn.stderr.read_text() + gunicorn.stdout.read_text()
    assert exit_code == 0
    assert "Traceback" not in output
    assert "Shutting down: Master" in output
