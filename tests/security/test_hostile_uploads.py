"""Hostile uploads and oversized bodies: refused cleanly, nothing stored.

Product images: too large (CATALOG_IMAGE_MAX_MB), not an image whatever its
name, an image under a script's name, a decompression bomb. Bodies above
DATA_UPLOAD_MAX_MEMORY_SIZE: 413 problem+json in the API, the 400 page on
pages. Every refusal leaves the rows (and the media folder) as they were.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.tests.factories import image_file
from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unchanged")]

NEW_PRODUCT = {"sku": "NEW-1", "name": "New", "price": "9.99", "category": "tea"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    yield tmp_path
    assert list(tmp_path.rglob("*.*")) == []


def upload(staff_client, image, path="/api/v1/products/"):
    return staff_client.post(path, {**NEW_PRODUCT, "image": image}, format="multipart")


def test_an_image_above_the_size_limit_is_refused(staff_client, settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 1024
    large = image_file("large.png", size=(400, 400))

    response = upload(staff_client, large)

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["image"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.png", b"this is not a picture", "image/png"),
        ("photo.jpg", b"%PDF-1.4 a document", "image/jpeg"),
        ("photo.gif", b"<script>alert(1)</script>", "image/gif"),
        ("photo.png", b"", "image/png"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused(
    staff_client, name, content, content_type
):
    response = upload(staff_client, SimpleUploadedFile(name, content, content_type))

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["image"]


@pytest.mark.parametrize("name", ["shell.php", "page.html", "image.svg", "run.sh", "x"])
def test_an_image_under_another_extension_is_refused(staff_client, name):
    response = upload(staff_client, image_file(name))

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["image"]


def test_a_decompression_bomb_is_refused(staff_client):
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), "image/png")

    response = upload(staff_client, bomb)

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["image"]


def test_an_api_body_above_the_limit_is_413(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = staff_client.post(
        "/api/v1/categories/",
        data='{"name": "' + "a" * 20_000 + '"}',
        content_type="application/json",
    )

    assert_problem(response, 413, "request_too_large")


def test_a_multipart_body_above_the_limit_is_413(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = staff_client.post(
        "/api/v1/products/",
        {**NEW_PRODUCT, "description": "d" * 20_000},
        format="multipart",
    )

    assert_problem(response, 413, "request_too_large")


def test_a_page_form_above_the_limit_is_the_400_page(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = client.post(
        "/accounts/login/", {"username": "a@example.com", "password": "p" * 20_000}
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_a_form_with_too_many_fields_is_the_400_page(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50

    response = client.post("/accounts/login/", {f"f{n}": "x" for n in range(100)})

    assert response.status_code == 400
