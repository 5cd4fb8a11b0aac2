"""The servers a benchmark drives: its database, and gunicorn started and stopped.

Shared by run.py, checkout.py and soak.py, which are run as scripts from the
repository root (so this folder is on sys.path).
"""

import os
import signal
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit

STARTUP_SECONDS = 30


def start_gunicorn(command, *, cwd, environment, port, log):
    """Start gunicorn in its own process group; return it once /healthz is 200."""
    # Our own command line, no shell.
    server = subprocess.Popen(  # nosec B603
        command,
        cwd=cwd,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"gunicorn exited with {server.returncode}; see {log.name}"
            )
        try:
            # A loopback http:// URL of our own.
            with urllib.request.urlopen(  # nosec B310
                f"http://127.0.0.1:{port}/healthz", timeout=2
            ) as answer:
                if answer.status == 200 and server.poll() is None:
                    return server
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(server)
    raise SystemExit(
        f"gunicorn did not answer on port {port} within {STARTUP_SECONDS} s"
    )


def stop_gunicorn(server):
    """Stop gunicorn and its workers: TERM, then KILL after 20 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def ensure_database(url):
    """Create the benchmark's PostgreSQL database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not found:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
