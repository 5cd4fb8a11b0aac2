"""Sentry reports errors only when SENTRY_DSN is set, and without personal data."""

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from shopswift.tests.test_deploy import BASE_DIR, production_env

# A DSN for the stand-in receiver below, filled with the port it got.
DSN = "http://publickey@127.0.0.1:{port}/7"

REPORT_AN_ERROR = """
import django
django.setup()
import sentry_sdk
from core.log import request_id_var
request_id_var.set("req-42")
try:
    raise RuntimeError("card gateway unreachable")
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=10)
"""


@pytest.fixture
def sentry_receiver():
    """A stand-in for Sentry's ingestion endpoint, on a port the system picks.

    Yields the receiver's DSN and the list of envelopes it got, each as its
    decoded lines (header, then item header and payload pairs).
    """
    envelopes = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            envelopes.append([json.loads(line) for line in body.splitlines() if line])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield DSN.format(port=server.server_address[1]), envelopes
    server.shutdown()
    server.server_close()


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sentry_is_off_without_a_dsn():
    assert not sentry_sdk.get_client().is_active()


def test_an_error_reaches_sentry_tagged_with_environment_and_request_id(
    sentry_receiver,
):
    dsn, envelopes = sentry_receiver

    result = run_python(REPORT_AN_ERROR, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging")

    assert result.returncode == 0, result.stderr
    events = [
        payload
        for envelope in envelopes
        for header, payload in zip(envelope[1::2], envelope[2::2], strict=True)
        if header["type"] == "event"
    ]
    assert len(events) == 1
    event = events[0]
    assert event["environment"] == "staging"
    assert event["tags"]["request_id"] == "req-42"
    assert event["exception"]["values"][0]["value"] == "card gateway unreachable"
    assert "user" not in event


def test_sentry_never_sends_personal_data_by_default():
    result = run_python(
        "import django; django.setup(); import sentry_sdk; "
        "options = sentry_sdk.get_client().options; "
        "print(options['send_default_pii'], options['environment'], "
        "options['traces_sample_rate'])",
        SENTRY_DSN=DSN.format(port=9),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "production", "0.0"]


def test_a_malformed_traces_sample_rate_is_refused_by_name():
    result = run_python(
        "import django; django.setup()",
        SENTRY_DSN=DSN.format(port=9),
        SENTRY_TRACES_SAMPLE_RATE="often",
    )

    assert result.returncode != 0
    assert "SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1" in result.stderr
