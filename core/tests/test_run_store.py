"""`make run`'s path: the embedded PostgreSQL and `manage.py run_store`.

Real servers on a data folder of each test's own: the embedded PostgreSQL
from the wheel, and run_store's development server, stopped with SIGINT as
a terminal's Ctrl-C stops them.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from core import embedded_db
from shopswift.tests.test_deploy import BASE_DIR


@pytest.fixture
def data_folder():
    """A folder for a cluster; as root, one the server's account can reach."""
    folder = Path(tempfile.mkdtemp(prefix="shopswift-run-store-"))
    folder.chmod(0o755)
    yield folder / "postgres"
    server = embedded_db.EmbeddedPostgres(folder / "postgres")
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_embedded_server_starts_once_and_keeps_its_data(data_folder):
    server = embedded_db.EmbeddedPostgres(data_folder)

    assert server.start() is True
    assert server.start() is False
    assert server.create_database("shop") is True
    assert server.create_database("shop") is False
    with psycopg.connect(server.url("shop"), autocommit=True) as connection:
        connection.execute("CREATE TABLE kept (id int)")
        connection.execute("CREATE EXTENSION pg_trgm")
    server.stop()
    assert server.is_running() is False
    assert server.start() is True

    with psycopg.connect(server.url("shop")) as connection:
        tables = connection.execute("SELECT tablename FROM pg_tables").fetchall()
    assert ("kept",) in tables


def test_the_embedded_server_listens_on_a_private_socket_only(data_folder):
    server = embedded_db.EmbeddedPostgres(data_folder)
    server.start()

    with psycopg.connect(server.url("postgres")) as connection:
        settings = dict(
            connection.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'unix_socket_permissions')"
            ).fetchall()
        )
    assert settings == {"listen_addresses": "", "unix_socket_permissions": "0700"}
    assert (data_folder / ".s.PGSQL.5432").is_socket()


def test_a_deep_data_folder_gets_its_socket_in_a_short_private_folder():
    deep = Path("/tmp") / ("deep-" * 30) / "postgres"

    folder = embedded_db.socket_dir(deep)

    assert folder != deep
    assert len(str(folder / ".s.PGSQL.5432")) < 100
    assert embedded_db.socket_dir(deep) == folder


def run_store(data_folder, port, log):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    environment.update(
        DJANGO_DEBUG="true",
        EMBEDDED_DATABASE_DIR=str(data_folder),
        STORE_URL=f"http://127.0.0.1:{port}",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_store",
            f"127.0.0.1:{port}",
            "--products",
            "12",
        ],
        cwd=BASE_DIR,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def serve_then_stop(data_folder, log_path):
    """Run the store until its catalog answers, then Ctrl-C it; its log."""
    port = free_port()
    with log_path.open("w") as log:
        process = run_store(data_folder, port, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                url = f"http://127.0.0.1:{port}/products/"
                with urllib.request.urlopen(url, timeout=5) as response:
                    catalog = response.read().decode()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"run_store did not serve:\n{log_path.read_text()}")
                time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)
        exit_code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return exit_code, catalog, log_path.read_text()


def test_run_store_serves_a_stocked_store_and_ctrl_c_stops_everything(
    data_folder, tmp_path
):
    exit_code, catalog, log = serve_then_stop(data_folder, tmp_path / "first.log")

    assert exit_code == 0
    assert "PostgreSQL (embedded) started" in log
    assert "12 products (12 new)" in log
    assert "email demo.staff@example.com  password demo-staff-password" in log
    assert len(set(re.findall(r'href="/products/([\w-]+)/"', catalog))) == 12
    assert "Stopping the embedded PostgreSQL" in log
    assert "Traceback" not in log
    assert embedded_db.EmbeddedPostgres(data_folder).is_running() is False

    exit_code, catalog, log = serve_then_stop(data_folder, tmp_path / "second.log")

    assert exit_code == 0
    assert "12 products (0 new)" in log
    assert len(set(re.findall(r'href="/products/([\w-]+)/"', catalog))) == 12
    assert "Traceback" not in log
    assert embedded_db.EmbeddedPostgres(data_folder).is_running() is False
