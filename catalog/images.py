"""Product images: their writes, and their renditions made once.

Each image has renditions, smaller copies for the cards ("thumbnail") and the
product page ("medium"), at the widths of CATALOG_IMAGE_RENDITIONS and twice
those (2x screens), in WebP and in JPEG for the browsers without WebP. They
are made by sorl-thumbnail when the image is saved through this module,
written beside the original on its storage, and named in the image's
`renditions`: a read (a page, an API answer) never makes one, nor asks the
storage anything. The original stays, for zoom.
"""

from dataclasses import dataclass
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from sorl.thumbnail import get_thumbnail
from sorl.thumbnail import shortcuts as thumbnail_files

from catalog.models import Product, ProductImage

# The formats of each rendition, by the key that `renditions` uses, best first.
FORMATS = {"webp": "WEBP", "jpeg": "JPEG"}
# The pixel densities each rendition is made for: 1x, and 2x at twice the width.
DENSITIES = (1, 2)
# The format of the renditions' URLs in the API: every platform an app still
# ships to decodes WebP, at about two thirds of the bytes of the JPEG.
API_FORMAT = "webp"
UNREADABLE = "The image could not be read."


class StoredRendition(TypedDict):
    name: str
    width: int
    height: int


type Renditions = dict[str, dict[str, list[StoredRendition]]]


@dataclass(frozen=True)
class Rendition:
    """One made copy of an image: its URL (as the storage gives it) and size."""

    url: str
    width: int
    height: int


# --- Writes -------------------------------------------------------------------


@transaction.atomic
def add_image(
    *,
    product: Product,
    image: "File[bytes] | str",
    alt_text: str = "",
    position: int | None = None,
) -> ProductImage:
    """Add a picture to a product: last, or at `position` before those there."""
    if position is None:
        last = product.images.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    else:
        product.images.filter(position__gte=position).update(position=F("position") + 1)
    return save_image(
        image=ProductImage(
            product=product, image=image, alt_text=alt_text, position=position
        )
    )


@transaction.atomic
def save_image(*, image: ProductImage) -> ProductImage:
    """Save a new or changed product image; a new file gets its renditions.

    An empty alt text becomes the product's name. The files of a replaced
    picture are deleted once the change is committed.
    """
    if not image.alt_text:
        image.alt_text = image.product.name
    replaced = "" if image.pk is None else _stored_file(image.pk)
    image.save()
    if image.image.name != replaced:
        image.renditions = make_renditions(image)
        image.save(update_fields=["renditions", "updated_at"])
        _delete_on_commit(replaced)
    _touch(image.product_id)
    return image


@transaction.atomic
def replace_main_image(*, product: Product, image: "File[bytes] | str | None") -> None:
    """Replace the product's first picture with `image`, or remove it for None."""
    main = product.images.first()
    if image is None:
        if main is not None:
            remove_image(image=main)
    elif main is None:
        add_image(product=product, image=image)
    else:
        main.image = image  # a new file, as a form sets it
        save_image(image=main)
    # Its prefetched `images`, if any, no longer hold.
    product.refresh_from_db(fields=["images", "updated_at"])


@transaction.atomic
def remove_image(*, image: ProductImage) -> None:
    """Remove a picture; its files are deleted once the removal is committed."""
    image.delete()
    _delete_on_commit(image.image.name or "")
    _touch(image.product_id)


@dataclass(frozen=True)
class MadeRenditions:
    """What make_missing_renditions did: images done, and those it could not read."""

    made: int
    unreadable: list[ProductImage]


def make_missing_renditions() -> MadeRenditions:
    """Make the renditions of every image whose renditions are not the settings'.

    For the images that came from before renditions (migration 0010), and
    after a change of CATALOG_IMAGE_RENDITIONS. Reads each original's header.
    """
    made, unreadable = 0, []
    for image in ProductImage.objects.order_by("pk").iterator():
        try:
            if _current(image):
                continue
            image.renditions = make_renditions(image)
        except ValidationError:
            unreadable.append(image)
            continue
        image.save(update_fields=["renditions", "updated_at"])
        made += 1
    return MadeRenditions(made, unreadable)


def _current(image: ProductImage) -> bool:
    """Whether the image has each rendition of the settings, at their widths."""
    wanted = settings.CATALOG_IMAGE_RENDITIONS
    if set(image.renditions) != set(wanted):
        return False
    source_width = _width(image)
    return all(
        [made["width"] for made in image.renditions[rendition].get(key, [])]
        == [min(width * density, source_width) for density in DENSITIES]
        for rendition, width in wanted.items()
        for key in FORMATS
    )


def make_renditions(image: ProductImage) -> Renditions:
    """Make (or find, if made before) every rendition of the image's file.

    Never wider than the original: the copies that this makes of one width
    (a small original's 2x, or its medium) are one file, made once.
    """
    source_width = _width(image)
    made: dict[tuple[int, str], StoredRendition] = {}

    def copy(width: int, image_format: str) -> StoredRendition:
        width = min(width, source_width)
        if (width, image_format) not in made:
            made[width, image_format] = _thumbnail(image, width, image_format)
        return made[width, image_format]

    return {
        rendition: {
            key: [copy(width * density, form) for density in DENSITIES]
            for key, form in FORMATS.items()
        }
        for rendition, width in settings.CATALOG_IMAGE_RENDITIONS.items()
    }


def _width(image: ProductImage) -> int:
    """The original's width in pixels, read from its header."""
    try:
        width = image.image.width
    except (OSError, ValueError):
        width = None
    if not width:
        raise ValidationError({"image": UNREADABLE})
    return width


def _thumbnail(image: ProductImage, width: int, image_format: str) -> StoredRendition:
    # sorl-thumbnail finds a rendition it made before (in its key-value store
    # or on the storage) rather than making it again.
    made = get_thumbnail(image.image, str(width), format=image_format)
    if not made.exists():
        raise ValidationError({"image": UNREADABLE})
    return {"name": made.name, "width": made.width, "height": made.height}


def _touch(product_id: int) -> None:
    """A change of its pictures is a change of the product (its `updated_at`)."""
    Product.objects.filter(pk=product_id).update(updated_at=timezone.now())


def _stored_file(pk: int) -> str:
    """The name of the file that an image's row holds now."""
    stored = ProductImage.objects.filter(pk=pk).values_list("image", flat=True)
    return stored.first() or ""


def _delete_on_commit(name: str) -> None:
    """Delete an original, its renditions and sorl-thumbnail's notes of them."""
    if name:
        transaction.on_commit(lambda: thumbnail_files.delete(name))


# --- Reads ----------------------------------------------------------------------


def renditions(image: ProductImage, rendition: str, key: str) -> list[Rendition]:
    """The made copies of one rendition in one format, 1x first; [] if none yet."""
    storage = image.image.storage
    return [
        Rendition(storage.url(made["name"]), made["width"], made["height"])
        for made in image.renditions.get(rendition, {}).get(key, [])
    ]


def rendition_url(image: ProductImage, rendition: str) -> str:
    """The URL of the API's copy of a rendition: 1x, API_FORMAT, else the original."""
    made = renditions(image, rendition, API_FORMAT)
    return made[0].url if made else image.image.url


@dataclass(frozen=True)
class Picture:
    """What a page's <picture> of one rendition needs: srcsets, fallback, size."""

    webp_srcset: str
    jpeg_srcset: str
    src: str
    width: int
    height: int


def picture(image: ProductImage, rendition: str) -> Picture:
    """The <picture> of a rendition: WebP and JPEG srcsets by width, JPEG 1x as src.

    Before its renditions are made, the original at the rendition's width
    (square: the pages' boxes are).
    """
    webp = renditions(image, rendition, "webp")
    jpeg = renditions(image, rendition, "jpeg")
    if not jpeg:
        width = settings.CATALOG_IMAGE_RENDITIONS[rendition]
        return Picture("", "", image.image.url, width, width)
    return Picture(
        _srcset(webp), _srcset(jpeg), jpeg[0].url, jpeg[0].width, jpeg[0].height
    )


def _srcset(made: list[Rendition]) -> str:
    # A source smaller than the 2x width gives two copies of one width: one.
    widths = {rendition.width: rendition.url for rendition in reversed(made)}
    return ", ".join(f"{url} {width}w" for width, url in sorted(widths.items()))
