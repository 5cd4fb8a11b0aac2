from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product
from catalog.product_csv import EXPORT_FIELDS, write_products


class Command(BaseCommand):
    help = (
        "Write every product (active or not) as CSV in the format that "
        "import_products reads, ordered by SKU: importing the file back changes "
        "nothing. Text is written as stored; see import_products --help for "
        "the columns."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            default="-",
            help="Where to write the CSV (default -: standard output).",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=10000,
            help="Print a progress line after this many products (default 10000).",
        )

    def handle(self, *args, file, progress_every, **options):
        if progress_every < 1:
            raise CommandError("--progress-every must be 1 or more.")
        # With the CSV on standard output, the messages go to standard error.
        messages = self.stderr if file == "-" else self.stdout
        total = Product.objects.count()
        name = "standard output" if file == "-" else file
        messages.write(f"Exporting {total} products to {name}…")
        rows = Product.objects.order_by("sku").values_list(*EXPORT_FIELDS)

        def counted(rows):
            for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
                yield row
                if count % progress_every == 0:
                    messages.write(f"  wrote {count} of {total} products")

        if file == "-":
            count = write_products(counted(rows), self.stdout)
        else:
            try:
                with open(file, "w", newline="", encoding="utf-8") as output:
                    count = write_products(counted(rows), output)
            except OSError as error:
                raise CommandError(f"Cannot write {file}: {error.strerror}.") from None
        messages.write(self.style.SUCCESS(f"Exported {count} products to {name}."))
