from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from orders import services


class Command(BaseCommand):
    help = (
        "Cancel the pending orders not paid within ORDER_PAYMENT_TIMEOUT_MINUTES "
        "and put their stock back. Celery beat runs the same job every 5 "
        "minutes; this runs it once, from cron or by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the orders that would expire, and change nothing.",
        )

    def handle(self, *args, dry_run, **options):
        minutes = settings.ORDER_PAYMENT_TIMEOUT_MINUTES
        now = timezone.now()
        self.stdout.write(
            f"Looking for pending orders placed more than {minutes} minutes ago "
            f"(before {now - timedelta(minutes=minutes):%Y-%m-%d %H:%M} "
            "UTC)…"
        )
        if dry_run:
            due = services.expire_unpaid_orders(now=now, dry_run=True)
            for order in due:
                self.stdout.write(f"  would expire {self._describe(order)}")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run: {len(due)} unpaid orders would expire; nothing changed."
                )
            )
            return
        expired = services.expire_unpaid_orders(
            now=now,
            on_expired=lambda order: self.stdout.write(
                f"  expired {self._describe(order)}, stock released"
            ),
        )
        self.stdout.write(self.style.SUCCESS(f"Expired {len(expired)} unpaid orders."))

    @staticmethod
    def _describe(order):
        return (
            f"{order.number} of {order.user.email}, {order.total} {order.currency}, "
            f"placed {order.created_at:%Y-%m-%d %H:%M} UTC"
        )
