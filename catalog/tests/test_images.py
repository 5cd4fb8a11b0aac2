"""Product images: their writes, and renditions made once when they are saved."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from PIL import Image
from sorl.thumbnail import default as thumbnails

from catalog import images
from catalog.models import Product, ProductImage
from catalog.tests.factories import ProductFactory, image_file

pytestmark = pytest.mark.django_db


def opened(media_root, name):
    """(format, (width, height)) of a stored file, as Pillow reads it."""
    with Image.open(media_root / name) as picture:
        return picture.format, picture.size


def made_files(image):
    """Each rendition's file name, as `renditions` names them."""
    return [
        rendition["name"]
        for formats in image.renditions.values()
        for renditions in formats.values()
        for rendition in renditions
    ]


def modification_times(media_root):
    return {
        path: path.stat().st_mtime_ns
        for path in media_root.rglob("*")
        if path.is_file()
    }


# --- Renditions -------------------------------------------------------------------


def test_renditions_have_their_widths_at_1x_and_2x_in_webp_and_jpeg(media_root):
    product = ProductFactory()

    image = images.add_image(
        product=product, image=image_file("mug.png", size=(1000, 800))
    )

    found = {
        (rendition, key): [opened(media_root, made["name"]) for made in renditions]
        for rendition, formats in image.renditions.items()
        for key, renditions in formats.items()
    }
    assert found == {
        ("thumbnail", "webp"): [("WEBP", (320, 256)), ("WEBP", (640, 512))],
        ("thumbnail", "jpeg"): [("JPEG", (320, 256)), ("JPEG", (640, 512))],
        # Never enlarged: the 2x of a 1000 px original is the original's size.
        ("medium", "webp"): [("WEBP", (800, 640)), ("WEBP", (1000, 800))],
        ("medium", "jpeg"): [("JPEG", (800, 640)), ("JPEG", (1000, 800))],
    }
    assert image.renditions["thumbnail"]["webp"][1]["width"] == 640
    assert image.renditions["medium"]["jpeg"][0]["height"] == 640


def test_renditions_lie_beside_the_original_on_the_storage(media_root):
    image = images.add_image(
        product=ProductFactory(), image=image_file("mug.png", size=(2000, 1000))
    )

    names = made_files(image)

    assert len(set(names)) == 8
    assert all(name.startswith("products/renditions/") for name in names)
    assert all((media_root / name).is_file() for name in names)
    assert (media_root / image.image.name).is_file()


def test_the_copies_of_a_small_original_at_one_width_are_one_file(media_root):
    image = images.add_image(
        product=ProductFactory(), image=image_file("mug.png", size=(500, 250))
    )

    webp = [made["name"] for made in image.renditions["medium"]["webp"]]
    jpeg = [made["name"] for made in image.renditions["medium"]["jpeg"]]

    # The thumbnail's 2x, the medium and its 2x: the original's 500 px.
    assert webp == [image.renditions["thumbnail"]["webp"][1]["name"]] * 2
    assert jpeg == [image.renditions["thumbnail"]["jpeg"][1]["name"]] * 2
    assert opened(media_root, webp[0]) == ("WEBP", (500, 250))
    assert len(set(made_files(image))) == 4


def test_rendition_widths_come_from_the_settings(media_root, settings):
    settings.CATALOG_IMAGE_RENDITIONS = {"thumbnail": 100, "medium": 200}

    image = images.add_image(
        product=ProductFactory(), image=image_file("mug.png", size=(500, 500))
    )

    assert [made["width"] for made in image.renditions["thumbnail"]["webp"]] == [
        100,
        200,
    ]
    assert [made["width"] for made in image.renditions["medium"]["jpeg"]] == [
        200,
        400,
    ]


def test_a_transparent_png_is_on_white_in_jpeg(media_root):
    upload = image_file("logo.png", size=(400, 400))
    with Image.new("RGBA", (400, 400), (0, 0, 0, 0)) as clear:
        clear.save(upload.file, "PNG")
    upload.file.truncate()
    upload.size = upload.file.tell()
    upload.file.seek(0)

    image = images.add_image(product=ProductFactory(), image=upload)

    jpeg = image.renditions["thumbnail"]["jpeg"][0]["name"]
    with Image.open(media_root / jpeg) as picture:
        assert picture.getpixel((10, 10)) == (255, 255, 255)


def test_making_renditions_again_finds_those_made(media_root):
    image = images.add_image(
        product=ProductFactory(), image=image_file("pan.png", size=(900, 900))
    )
    before = modification_times(media_root)

    again = images.make_renditions(image)

    assert again == image.renditions
    assert modification_times(media_root) == before


def test_reads_never_make_a_rendition(client, api_client, media_root):
    product = ProductFactory(name="Pan")
    image = images.add_image(
        product=product, image=image_file("pan.png", size=(900, 900))
    )
    # Gone from the storage and from sorl-thumbnail's notes: a read that
    # asked for a rendition would make it again.
    for name in made_files(image):
        (media_root / name).unlink()
    thumbnails.kvstore.clear()

    pages = [client.get("/products/"), client.get("/products/pan/")]
    answers = [
        api_client.get("/api/v1/products/").json()["results"][0],
        api_client.get("/api/v1/products/pan/").json(),
    ]

    assert list((media_root / "products" / "renditions").rglob("*.*")) == []
    thumbnail = image.renditions["thumbnail"]["jpeg"][0]["name"]
    medium = image.renditions["medium"]["webp"][0]["name"]
    assert f"/media/{thumbnail}" in pages[0].content.decode()
    assert f"/media/{medium}" in pages[1].content.decode()
    assert {answer["images"][0]["medium"] for answer in answers} == {
        f"http://testserver/media/{medium}"
    }


def test_a_changed_alt_text_or_position_keeps_the_renditions(media_root):
    image = images.add_image(product=ProductFactory(), image=image_file("pan.png"))
    renditions = image.renditions
    before = modification_times(media_root)

    image.alt_text = "The pan from above"
    image.position = 3
    images.save_image(image=image)

    image.refresh_from_db()
    assert (image.alt_text, image.position) == ("The pan from above", 3)
    assert image.renditions == renditions
    assert modification_times(media_root) == before


def test_a_replaced_file_gets_new_renditions_and_the_old_files_go(
    media_root, django_capture_on_commit_callbacks
):
    image = images.add_image(product=ProductFactory(), image=image_file("old.png"))
    old_files = [image.image.name, *made_files(image)]

    with django_capture_on_commit_callbacks(execute=True):
        image.image = image_file("new.jpg", "JPEG", size=(700, 350))
        images.save_image(image=image)

    image.refresh_from_db()
    assert image.image.name.endswith("new.jpg")
    assert image.renditions["thumbnail"]["jpeg"][0]["height"] == 160
    assert not any((media_root / name).exists() for name in old_files)
    assert all((media_root / name).is_file() for name in made_files(image))


# --- Writes -----------------------------------------------------------------------


def test_pictures_are_added_last_and_their_alt_text_defaults_to_the_name(media_root):
    product = ProductFactory(name="Blue Mug")

    first = images.add_image(product=product, image=image_file("a.png"))
    second = images.add_image(
        product=product, image=image_file("b.png"), alt_text="The handle"
    )

    assert [
        (image.pk, image.position, image.alt_text) for image in product.images.all()
    ] == [
        (first.pk, 0, "Blue Mug"),
        (second.pk, 1, "The handle"),
    ]
    assert product.first_image == first


def test_a_picture_added_at_a_position_goes_before_those_there(media_root):
    product = ProductFactory()
    first = images.add_image(product=product, image=image_file("a.png"))
    second = images.add_image(product=product, image=image_file("b.png"))

    front = images.add_image(product=product, image=image_file("c.png"), position=0)

    assert list(product.images.all()) == [front, first, second]


def test_a_picture_moved_to_the_front_is_the_products_first(media_root):
    product = ProductFactory()
    first = images.add_image(product=product, image=image_file("a.png"))
    second = images.add_image(product=product, image=image_file("b.png"))

    first.position = 2
    images.save_image(image=first)

    assert list(product.images.all()) == [second, first]
    assert Product.objects.with_images().get().first_image == second


def test_removing_a_picture_deletes_its_files_once_committed(
    media_root, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    image = images.add_image(product=product, image=image_file("a.png"))
    kept = images.add_image(product=product, image=image_file("b.png"))
    files = [image.image.name, *made_files(image)]

    with django_capture_on_commit_callbacks(execute=True):
        images.remove_image(image=image)

    assert list(product.images.all()) == [kept]
    assert not any((media_root / name).exists() for name in files)
    assert (media_root / kept.image.name).is_file()


def test_a_picture_change_is_a_change_of_the_product(media_root):
    product = ProductFactory()
    before = product.updated_at

    images.add_image(product=product, image=image_file("a.png"))

    product.refresh_from_db()
    assert product.updated_at > before


def test_an_unreadable_file_is_refused(media_root):
    product = ProductFactory()
    broken = image_file("broken.png")
    broken.file.truncate(20)

    with pytest.raises(ValidationError) as refused:
        images.add_image(product=product, image=broken)

    assert list(refused.value.message_dict) == ["image"]


def test_make_image_renditions_makes_those_missing(media_root, capsys):
    product = ProductFactory()
    made = images.add_image(product=product, image=image_file("a.png"))
    # As migration 0010 leaves a product's former image.
    copied = images.add_image(product=product, image=image_file("b.png"))
    ProductImage.objects.filter(pk=copied.pk).update(renditions={})

    call_command("make_image_renditions")

    copied.refresh_from_db()
    assert copied.renditions == images.make_renditions(copied)
    assert copied.renditions["medium"]["webp"][0]["name"].endswith(".webp")
    made_before = made.renditions
    made.refresh_from_db()
    assert made.renditions == made_before
    assert capsys.readouterr().out == "Made the renditions of 1 product image.\n"


# --- Validation -------------------------------------------------------------------


def test_full_clean_refuses_a_new_image_above_the_size_limit(media_root, settings):
    image = images.add_image(product=ProductFactory(), image=image_file("small.png"))
    settings.CATALOG_IMAGE_MAX_BYTES = 100
    image.image = image_file("large.png", size=(64, 64))

    with pytest.raises(ValidationError) as refused:
        image.full_clean()

    assert list(refused.value.message_dict) == ["image"]
    assert refused.value.error_dict["image"][0].code == "file_too_large"


def test_full_clean_leaves_the_stored_image_unchecked(media_root, settings):
    image = images.add_image(product=ProductFactory(), image=image_file("mug.png"))
    (media_root / image.image.name).unlink()
    settings.CATALOG_IMAGE_MAX_BYTES = 1
    loaded = ProductImage.objects.get(pk=image.pk)

    image.full_clean()
    loaded.full_clean()

    assert loaded.image.name == image.image.name


def test_make_image_renditions_remakes_those_of_other_widths(media_root, settings):
    product = ProductFactory()
    wide = images.add_image(
        product=product, image=image_file("a.png", size=(2000, 1000))
    )
    narrow = images.add_image(
        product=product, image=image_file("b.png", size=(300, 300))
    )
    settings.CATALOG_IMAGE_RENDITIONS = {"thumbnail": 200, "medium": 800}

    call_command("make_image_renditions", stdout=StringIO())

    wide.refresh_from_db()
    narrow.refresh_from_db()
    assert [made["width"] for made in wide.renditions["thumbnail"]["webp"]] == [
        200,
        400,
    ]
    assert [made["width"] for made in wide.renditions["medium"]["jpeg"]] == [800, 1600]
    # Its 2x stays the original's 300 px: never wider than it.
    assert [made["width"] for made in narrow.renditions["thumbnail"]["webp"]] == [
        200,
        300,
    ]


def test_make_image_renditions_names_the_images_it_cannot_read(media_root):
    product = ProductFactory()
    ProductImage.objects.create(product=product, image="products/lost.png")
    copied = images.add_image(product=product, image=image_file("b.png"))
    ProductImage.objects.filter(pk=copied.pk).update(renditions={})

    with pytest.raises(CommandError, match=r"^Could not read 1: products/lost\.png$"):
        call_command("make_image_renditions")

    copied.refresh_from_db()
    assert set(copied.renditions) == {"thumbnail", "medium"}
    assert ProductImage.objects.get(image="products/lost.png").renditions == {}
