from django.core.management.base import BaseCommand, CommandError

from catalog.models import ProductOption, ProductVariant
from catalog.product_csv import EXPORT_FIELDS, write_products


class Command(BaseCommand):
    help = (
        "Write every variant of every product (active or not) as CSV in the "
        "format that import_products reads, one row per variant ordered by "
        "product SKU and the variants' order: importing the file back changes "
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
        total = ProductVariant.objects.count()
        name = "standard output" if file == "-" else file
        messages.write(f"Exporting {total} variants to {name}…")
        rows = ProductVariant.objects.order_by(
            "product__sku", "position", "pk"
        ).values_list("product_id", *EXPORT_FIELDS)
        # The option names in each product's order (a jsonb object keeps none).
        names: dict[int, list[str]] = {}
        for product_id, option in ProductOption.objects.order_by(
            "product_id", "position", "pk"
        ).values_list("product_id", "name"):
            names.setdefault(product_id, []).append(option)

        def counted(rows):
            for count, (product_id, *row) in enumerate(
                rows.iterator(chunk_size=2000), start=1
            ):
                options = row[9]
                row[9] = {
                    option: options[option]
                    for option in names.get(product_id, ())
                    if option in options
                }
                yield row
                if count % progress_every == 0:
                    messages.write(f"  wrote {count} of {total} variants")

        if file == "-":
            count = write_products(counted(rows), self.stdout)
        else:
            try:
                with open(file, "w", newline="", encoding="utf-8") as output:
                    count = write_products(counted(rows), output)
            except OSError as error:
                raise CommandError(f"Cannot write {file}: {error.strerror}.") from None
        messages.write(self.style.SUCCESS(f"Exported {count} variants to {name}."))
