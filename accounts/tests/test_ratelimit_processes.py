"""Login limits hold across processes: two gunicorn servers share one count.

Each server is its own process with its own memory; only Redis is shared.
Requests alternate between them, so a count kept in process memory would
allow three failures on each and never refuse the sixth attempt.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from accounts.tests.clock import seconds_left
from core.testing import current_database_url
from core.testing_servers import worker_ports

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
PORTS = range(18100, 18200)  # this app's ports for test servers


def free_port():
    for port in worker_ports(PORTS):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"No free port in {worker_ports(PORTS)}")


class Server:
    def __init__(self, port, environment):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "shopswift.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_until_up(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode())
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn at {self.url} did not come up")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stderr.close()

    def log_in(self, email, password, client_ip):
        request = urllib.request.Request(
            f"{self.url}/api/v1/auth/token/",
            data=json.dumps({"email": email, "password": password}).encode(),
            headers={"Content-Type": "application/json", "X-Real-IP": client_ip},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)


@pytest.fixture(scope="module")
def servers(django_db_setup):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopswift.settings_test",
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # Lets each test pick client addresses (see fresh()).
        "RATELIMIT_CLIENT_IP_HEADER": "X-Real-IP",
        "RATELIMIT_LOGIN": "5/m",
    }
    started = []
    try:
        for _ in range(2):
            server = Server(free_port(), environment)
            started.append(server)
            # One at a time, so that free_port() sees the first one's port.
            server.wait_until_up()
        yield started
    finally:
        for server in started:
            server.stop()


def fresh(make_key):
    """A key whose one-minute window has at least 20 seconds left.

    The servers run on the real clock; choosing the key keeps the test's
    attempts inside one window, without sleeping.
    """
    for number in range(1, 1000):
        key = make_key(number)
        if seconds_left(key, 60, time.time()) >= 20:
            return key
    raise AssertionError("unreachable: about two keys in three qualify")


def test_the_sixth_failed_login_from_one_ip_is_429_on_either_server(servers):
    first, second = servers
    client_ip = fresh(lambda number: f"198.51.100.{number % 250 + 1}")
    alternating = [first, second, first, second, first]

    statuses = [
        server.log_in(f"guess{attempt}@example.com", "wrong", client_ip)[0]
        for attempt, server in enumerate(alternating)
    ]
    sixth, sixth_headers = second.log_in("another@example.com", "wrong", client_ip)
    seventh, _ = first.log_in("yet-another@example.com", "wrong", client_ip)
    other_client, _ = first.log_in("guess0@example.com", "wrong", "192.0.2.200")

    assert statuses == [401, 401, 401, 401, 401]
    assert (sixth, seventh) == (429, 429)
    assert 1 <= int(sixth_headers["Retry-After"]) <= 60
    assert other_client == 401


def fresh_ips(email, count):
    """Client IPs whose failures for `email` keep counting for 20 seconds more."""
    ips = [f"203.0.113.{number}" for number in range(1, 255)]
    now = time.time()
    return [ip for ip in ips if seconds_left(f"{email}|{ip}", 60, now) >= 20][:count]


def test_an_email_failed_five_times_is_refused_to_those_ips_on_either_server(
    servers,
):
    first, second = servers
    email = fresh(lambda number: f"target{number}@example.com")
    attackers = fresh_ips(email, 6)
    alternating = [second, first, second, first, second]

    statuses = [
        server.log_in(email, "wrong", client_ip)[0]
        for server, client_ip in zip(alternating, attackers[:5], strict=True)
    ]
    sixth, _ = first.log_in(email, "wrong", attackers[0])
    seventh, _ = second.log_in(email.upper(), "wrong", attackers[1])
    newcomer, _ = first.log_in(email, "wrong", attackers[5])
    newcomer_again, _ = second.log_in(email, "wrong", attackers[5])

    assert statuses == [401, 401, 401, 401, 401]
    assert (sixth, seventh) == (429, 429)
    assert (newcomer, newcomer_again) == (401, 429)
