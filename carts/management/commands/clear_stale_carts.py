from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from carts import services

# Beyond a century the cut-off date stops making sense (and soon overflows).
MAX_DAYS = 36500


class Command(BaseCommand):
    help = (
        "Delete anonymous (session) carts that nobody has changed for --days "
        "days, with their lines. Customers' own carts are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="Delete anonymous carts not updated for this many days (default 30).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Carts deleted per transaction (default 1000).",
        )

    def handle(self, *args, days, batch_size, **options):
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be from 1 to {MAX_DAYS}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        cutoff = timezone.now() - timedelta(days=days)
        self.stdout.write(f"Deleting anonymous carts not updated for {days} days…")
        deleted = 0
        for count in services.delete_stale_carts(
            updated_before=cutoff, batch_size=batch_size
        ):
            deleted += count
            self.stdout.write(f"  deleted {deleted} carts so far")
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {deleted} anonymous carts not updated for {days} days."
            )
        )
