from django.core.management.base import BaseCommand, CommandError

from catalog import images


class Command(BaseCommand):
    help = (
        "Make the renditions of every product image that lacks them (those "
        "that migration 0010 moved from the products) or has them at other "
        "widths than CATALOG_IMAGE_RENDITIONS. Renditions made before are found, "
        "not made again."
    )

    def handle(self, *args, **options):
        result = images.make_missing_renditions()
        noun = "image" if result.made == 1 else "images"
        self.stdout.write(f"Made the renditions of {result.made} product {noun}.")
        if result.unreadable:
            names = ", ".join(str(image.image) for image in result.unreadable)
            raise CommandError(f"Could not read {len(result.unreadable)}: {names}")
