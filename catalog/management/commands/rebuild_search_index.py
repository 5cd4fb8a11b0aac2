from django.conf import settings
from django.core.management.base import BaseCommand

from catalog import search


class Command(BaseCommand):
    help = (
        "Write the product search's trigger for SEARCH_CONFIG, then every "
        "product's search vector and the vocabulary of product names again. "
        "Run it after changing SEARCH_CONFIG."
    )

    def handle(self, *args, **options):
        rebuilt = search.rebuild_search_index()
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote the search vectors of {rebuilt} products in "
                f"{settings.SEARCH_CONFIG!r}."
            )
        )
