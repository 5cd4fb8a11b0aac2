import contextlib
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core import embedded_db


class Command(BaseCommand):
    help = (
        "Run the demo store: start the embedded PostgreSQL when DATABASE_URL "
        "is unset, migrate, load the demo data (seed_demo), and serve with "
        "Django's development server. Ctrl-C stops the web server, then the "
        "database it started."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport",
            nargs="?",
            default="127.0.0.1:8000",
            help="Where to serve (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--products",
            type=int,
            default=300,
            help="How many demo products (default 300).",
        )

    def handle(self, *args, addrport, products, **options):
        start = time.monotonic()
        database = (
            embedded_db.EmbeddedPostgres(settings.EMBEDDED_DATABASE_DIR)
            if settings.DATABASE_EMBEDDED
            else None
        )
        started_database = False
        try:
            if database is not None:
                started_database = self._start_database(database)
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Database migrated.")
            call_command("seed_demo", products=products, stdout=self.stdout)
            # The web server opens its own connections.
            connections.close_all()
            self.stdout.write(
                f"\nStarting the store at http://{addrport}/ "
                f"({time.monotonic() - start:.1f} s so far). Ctrl-C stops it.\n"
            )
            self._serve(addrport)
        except embedded_db.EmbeddedPostgresError as error:
            raise CommandError(str(error)) from None
        finally:
            connections.close_all()
            if database is not None and started_database:
                self.stdout.write("Stopping the embedded PostgreSQL…")
                database.stop()
        self.stdout.write("The store has stopped.")

    def _start_database(self, database):
        started = database.start()
        database.create_database()
        where = database.data_dir.relative_to(settings.BASE_DIR, walk_up=True)
        self.stdout.write(
            f"PostgreSQL (embedded) {'started' if started else 'already running'} "
            f"on {where}."
        )
        return started

    def _serve(self, addrport: str) -> None:
        """Run the development server until it stops or this process is told to.

        The server runs in a process group of its own, and a Ctrl-C (or a
        SIGINT or SIGTERM sent to this process) is passed to that whole group
        once, as a terminal would: the autoreloader and the server both stop,
        and this process stops the database after them. A second one kills
        the server.
        """
        server: subprocess.Popen[bytes] | None = None
        asked: list[int] = []

        def pass_on(started: subprocess.Popen[bytes]) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(
                    started.pid, signal.SIGINT if len(asked) == 1 else signal.SIGKILL
                )

        def stop_server(signum: int, frame: FrameType | None) -> None:
            asked.append(signum)
            if server is not None:
                pass_on(server)

        previous = {
            signum: signal.signal(signum, stop_server)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            # Started once this process handles the signals, so that the
            # server starts with Python's own Ctrl-C handling even where this
            # process began with SIGINT ignored (a shell's background job).
            server = subprocess.Popen(
                [
                    sys.executable,
                    settings.BASE_DIR / "manage.py",
                    "runserver",
                    addrport,
                ],
                process_group=0,
            )
            if asked:
                pass_on(server)
            server.wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
