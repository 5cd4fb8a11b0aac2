import argparse
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.db import IntegrityError

from catalog import services
from catalog.exceptions import ImportRejected
from catalog.product_csv import COLUMNS_HELP, read_products


class HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the column list's layout in --help."""


class Command(BaseCommand):
    help = (
        "Create or update products from a CSV file, matched by SKU. Every row is\n"
        "checked first and each bad one reported with its line number; then all\n"
        "rows are imported in one transaction, or none (exit status 1 and nothing\n"
        "imported when any row is bad). Stock changes are recorded as movements\n"
        '"import", and the catalog cache is refreshed once.'
    )
    missing_args_message = "Name the CSV file to import (or - for standard input)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("epilog", COLUMNS_HELP)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file, or - for standard input.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report what would change; change nothing.",
        )
        parser.add_argument(
            "--create-categories",
            action="store_true",
            help="Create the categories the file names that do not exist yet, at "
            "the top level, named after their slug (otherwise an unknown "
            "category is an error).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Products written per batch of queries (default 1000).",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=5000,
            help="Print a progress line after about this many rows (default 5000).",
        )

    def handle(
        self,
        *args,
        file,
        dry_run,
        create_categories,
        batch_size,
        progress_every,
        verbosity,
        **options,
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        if progress_every < 1:
            raise CommandError("--progress-every must be 1 or more.")
        name = "standard input" if file == "-" else file
        data = self._read(file)
        self.stdout.write(f"Reading {name}…")
        printed = Progress(self, progress_every, "read {done} rows")
        rows, errors = read_products(data, progress=printed.update)
        self.stdout.write(f"Read {len(rows) + len(errors)} rows; checking them…")
        try:
            # With errors already found, a dry run still finds the rest.
            result = services.import_products(
                rows=rows,
                create_categories=create_categories,
                dry_run=dry_run or bool(errors),
                reference=f"import {Path(name).name}"[:100],
                batch_size=batch_size,
                progress=Progress(
                    self, progress_every, "wrote {done} of {total} products"
                ).update,
            )
        except ImportRejected as rejected:
            errors += rejected.row_errors
        except IntegrityError as error:
            raise CommandError(
                "The catalog changed while the file was imported "
                f"({str(error).strip()}); nothing was imported. Run it again."
            ) from None
        if errors:
            for row_error in sorted(errors):
                self.stderr.write(str(row_error))
            count = len({row_error.line for row_error in errors})
            raise CommandError(
                f"{count} row{'s' if count != 1 else ''} of {name} cannot be "
                "imported (listed above); nothing was imported."
            )
        if verbosity >= 2:
            for line, sku, action, fields in result.changes:
                self.stdout.write(
                    f"  line {line}: {sku} {action} ({', '.join(fields)})"
                )
        summary = (
            f"{result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, 0 errors; "
            f"{result.stock_movements} stock movements"
        )
        if result.categories_created:
            summary += f"; categories created: {', '.join(result.categories_created)}"
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run of {name}: would be {summary}. Nothing changed."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {name}: {summary}."))

    def _read(self, file):
        if file == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None


class Progress:
    """Prints a line each time the count passes another `every` rows."""

    def __init__(self, command, every, template):
        self.command, self.every, self.template = command, every, template
        self.printed = 0

    def update(self, done, total=None):
        if done // self.every > self.printed // self.every:
            self.printed = done
            self.command.stdout.write(
                "  " + self.template.format(done=done, total=total)
            )
