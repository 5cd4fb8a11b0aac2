import contextlib
import io
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import data


class Command(BaseCommand):
    help = (
        "Load the demo store: categories with subcategories, products with "
        "prices, stock and pictures, a staff and a customer account (their "
        "credentials are printed) and the customer's orders in every state, "
        "all made through the store's services. Running it again adds only "
        "what is missing. Refused in production mode unless "
        "--allow-production: the demo passwords are public."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--products",
            type=int,
            default=300,
            help=f"How many products (1 to {data.capacity()}, default 300).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DJANGO_DEBUG off, for a staging or demo site. "
            "Never on a real store: the demo accounts' passwords are public.",
        )

    def handle(self, *args, products, allow_production, **options):
        most = data.capacity()
        if not 1 <= products <= most:
            raise CommandError(f"--products must be from 1 to {most}, not {products}.")
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "Refusing to seed in production mode (DJANGO_DEBUG is off): the "
                "demo accounts' passwords are public. Use --allow-production "
                "for a staging or demo site."
            )
        start = time.perf_counter()
        self.stdout.write(f"Seeding the demo store ({products} products)…")
        wanted = data.demo_products(products)
        # One transaction: a failure leaves nothing half made. The orders'
        # emails are sent after it commits.
        with self._quiet_console_mail(), transaction.atomic():
            categories, new_categories = data.ensure_categories()
            self.stdout.write(
                f"  categories: {len(data.CATALOG)} with "
                f"{len(data.subcategories())} subcategories ({new_categories} new)"
            )
            new_products = data.ensure_products(
                wanted, categories, on_progress=self._progress(len(wanted))
            )
            new_optioned = data.ensure_optioned_products(categories)
            self.stdout.write(
                f"  products in options: {len(data.OPTIONED)} ({new_optioned} new)"
            )
            staff, new_staff = data.ensure_user(
                email=data.STAFF_EMAIL,
                password=data.STAFF_PASSWORD,
                first_name="Sam",
                last_name="Staff",
                staff=True,
            )
            customer, new_customer = data.ensure_user(
                email=data.CUSTOMER_EMAIL,
                password=data.CUSTOMER_PASSWORD,
                first_name="Robin",
                last_name="Shopper",
            )
            self.stdout.write(
                f"  accounts: {staff.email} ({'new' if new_staff else 'kept'}), "
                f"{customer.email} ({'new' if new_customer else 'kept'})"
            )
            new_zones = data.ensure_shipping_zones()
            self.stdout.write(
                f"  shipping zones: {len(data.SHIPPING_ZONES)} ({new_zones} new)"
            )
            new_orders = data.ensure_orders(
                customer=customer, staff=staff, products=wanted
            )
            orders = customer.orders.count()
            self.stdout.write(f"  orders: {orders} ({new_orders} new)")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo store ready in {time.perf_counter() - start:.1f} s: "
                f"{len(wanted)} products ({new_products} new), "
                f"{orders} orders ({new_orders} new)."
            )
        )
        store = settings.STORE_URL
        self.stdout.write(
            f"\nShop as the customer at {store}/accounts/login/\n"
            f"    email {data.CUSTOMER_EMAIL}  password {data.CUSTOMER_PASSWORD}\n"
            f"Run the catalog and the orders at {store}/{settings.ADMIN_URL}\n"
            f"    email {data.STAFF_EMAIL}  password {data.STAFF_PASSWORD}"
        )

    def _progress(self, total):
        def progress(done):
            if done % 100 == 0 or done == total:
                self.stdout.write(f"  products: {done} of {total}")

        return progress

    @staticmethod
    def _quiet_console_mail():
        """Keep the console mailer's copies of the demo orders' emails out of sight.

        In development every email is printed to standard output; the dozen
        the demo orders send would bury the credentials printed at the end.
        """
        backend = getattr(settings, "MAILERS", {}).get("default", {}).get("BACKEND", "")
        if backend == "django.core.mail.backends.console.EmailBackend":
            return contextlib.redirect_stdout(io.StringIO())
        return contextlib.nullcontext()
