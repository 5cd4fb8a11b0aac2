from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from catalog.models import Product, ProductVariant


class Command(BaseCommand):
    help = (
        "Prove that each variant's stock on hand equals the sum of its stock "
        "movements, and each product's price and stock the aggregates of its "
        "active variants; list every row that drifted and exit non-zero if any did."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--progress-every",
            type=int,
            default=1000,
            help="Print a progress line after this many products (default 1000).",
        )

    def handle(self, *args, progress_every, **options):
        if progress_every < 1:
            raise CommandError("--progress-every must be 1 or more.")
        drifted = self.check_variants(progress_every)
        drifted += self.check_products(progress_every)
        if drifted:
            raise CommandError(
                f"{drifted} rows drifted from their stock movements or variants."
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Stock matches the movements of every variant, and every product "
                "the aggregates of its variants."
            )
        )

    def check_variants(self, progress_every: int) -> int:
        # One statement: PostgreSQL reads the stock and the movements from a
        # single snapshot, so a sale committing meanwhile cannot look like
        # drift (it changes both, in one transaction).
        variants = (
            ProductVariant.objects.order_by("pk")
            .annotate(ledger=Coalesce(Sum("stock_movements__quantity"), 0))
            .values_list("pk", "sku", "stock", "ledger")
        )
        total = ProductVariant.objects.count()
        self.stdout.write(f"Reconciling the stock of {total} variants…")
        checked = drifted = 0
        for pk, sku, stock, ledger in variants.iterator(chunk_size=2000):
            checked += 1
            if stock != ledger:
                drifted += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"DRIFT variant {pk} ({sku}): stock on hand {stock}, "
                        f"movements sum to {ledger}, drift {stock - ledger:+d}"
                    )
                )
            if checked % progress_every == 0:
                self.stdout.write(f"  checked {checked} variants, {drifted} drifted")
        self.stdout.write(f"Checked {checked} variants: {drifted} drifted.")
        return drifted

    def check_products(self, progress_every: int) -> int:
        # Also one statement: a product and its variants change together.
        variants = ProductVariant.objects.filter(product=OuterRef("pk")).order_by()
        active = Q(is_active=True)
        products = (
            Product.objects.order_by("pk")
            .annotate(
                units=Coalesce(
                    Subquery(
                        variants.filter(active)
                        .values("product")
                        .annotate(units=Sum("stock"))
                        .values("units")
                    ),
                    0,
                ),
                low=Subquery(
                    variants.filter(active)
                    .values("product")
                    .annotate(low=Min("price"))
                    .values("low")
                ),
            )
            .values_list("pk", "sku", "stock", "units", "price", "low")
        )
        checked = drifted = 0
        for pk, sku, stock, units, price, low in products.iterator(chunk_size=2000):
            checked += 1
            # A product with no active variant keeps a price of its own.
            if stock != units or (low is not None and price != low):
                drifted += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"DRIFT product {pk} ({sku}): stock {stock}, price {price}; "
                        f"its active variants hold {units} units from {low}"
                    )
                )
            if checked % progress_every == 0:
                self.stdout.write(f"  checked {checked} products, {drifted} drifted")
        self.stdout.write(f"Checked {checked} products: {drifted} drifted.")
        return drifted
