from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.exports import write_orders_csv
from orders.models import Order


class Command(BaseCommand):
    help = (
        "Write orders and their lines as CSV for accounting, one row per order "
        "line (the order console's Export as CSV format): the order's number, "
        "time, status, customer, shipping place, currency, subtotal, shipping "
        "and total, then the line's product, SKU, name, unit price, quantity "
        "and line total. Dates are days in the store's time zone "
        "(TIME_ZONE, UTC by default), both ends included."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            required=True,
            metavar="DATE",
            help="First day of orders to export, such as 2025-01-31.",
        )
        parser.add_argument(
            "--until",
            metavar="DATE",
            help="Last day of orders to export (default: up to now).",
        )
        parser.add_argument(
            "--status",
            action="append",
            choices=Order.Status.values,
            help="Only orders in this status; repeat for several (default: all).",
        )
        parser.add_argument(
            "--output",
            default="-",
            metavar="FILE",
            help="Where to write the CSV (default -: standard output).",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=1000,
            help="Print a progress line after this many orders (default 1000).",
        )

    def handle(self, *args, since, until, status, output, progress_every, **options):
        if progress_every < 1:
            raise CommandError("--progress-every must be 1 or more.")
        first_day = self._day("--since", since)
        last_day = self._day("--until", until) if until else None
        if last_day is not None and last_day < first_day:
            raise CommandError(
                f"--until {last_day} is before --since {first_day}: nothing to export."
            )
        orders = Order.objects.filter(created_at__gte=self._start_of(first_day))
        period = f"from {first_day}"
        if last_day is not None:
            # Up to the end of the last day, whatever time the clock shows.
            orders = orders.filter(
                created_at__lt=self._start_of(last_day + timedelta(days=1))
            )
            period += f" to {last_day}"
        if status:
            orders = orders.filter(status__in=status)
            period += f", status {' or '.join(status)}"
        # With the CSV on standard output, the messages go to standard error.
        messages = self.stderr if output == "-" else self.stdout
        name = "standard output" if output == "-" else output
        total = orders.count()
        messages.write(f"Exporting {total} orders placed {period} to {name}…")

        def progress(count):
            if count % progress_every == 0:
                messages.write(f"  wrote {count} of {total} orders")

        if output == "-":
            counts = write_orders_csv(orders, self.stdout, on_order=progress)
        else:
            try:
                with open(output, "w", newline="", encoding="utf-8") as file:
                    counts = write_orders_csv(orders, file, on_order=progress)
            except OSError as error:
                raise CommandError(
                    f"Cannot write {output}: {error.strerror}."
                ) from None
        messages.write(
            self.style.SUCCESS(
                f"Exported {counts[0]} orders ({counts[1]} lines) to {name}."
            )
        )

    @staticmethod
    def _day(option, value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CommandError(
                f"{option} must be a date such as 2025-01-31, not {value!r}."
            ) from None

    @staticmethod
    def _start_of(day):
        return timezone.make_aware(datetime.combine(day, time.min))
