"""Hostile uploads and oversized bodies: refused cleanly, nothing stored.

Product images: too large (CATALOG_IMAGE_MAX_MB), not an image whatever its
name, an image under a script's name, a decompression bomb; each sent as a
new product's image and as a replacement in the API, and as a new picture in
the admin's inline. Bodies above
DATA_UPLOAD_MAX_MEMORY_SIZE: 413 problem+json in the API, the 400 page on
pages. Every refusal leaves the rows (and the media folder) as they were.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.tests.otp import log_in_to_the_admin
from catalog.tests.factories import image_file, image_inline_form
from core.testing import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unchanged")]

NEW_PRODUCT = {"sku": "NEW-1", "name": "New", "price": "9.99", "category": "tea"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    yield tmp_path
    assert list(tmp_path.rglob("*.*")) == []


@pytest.fixture(params=["api-create", "api-replace", "admin-inline"])
def refuses(request, staff, staff_client, store):
    """Send an upload as a product's picture; assert that it is refused.

    Returns the problem's body in the API, the inline's errors in the admin.
    """

    def send(image):
        if request.param == "api-create":
            response = staff_client.post(
                "/api/v1/products/", {**NEW_PRODUCT, "image": image}, format="multipart"
            )
        elif request.param == "api-replace":
            response = staff_client.patch(
                "/api/v1/products/kettle/", {"image": image}, format="multipart"
            )
        else:
            return admin_inline_errors(staff, store["kettle"], image)
        body = assert_problem(response, 400, "validation_error")
        return body["errors"]

    return send


def admin_inline_errors(staff, product, image):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client = Client()
    log_in_to_the_admin(client, staff)
    form = {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "description": product.description,
        "price": str(product.price),
        "is_active": "on",
        **image_inline_form({"image": image, "alt_text": "", "position": "0"}),
    }
    response = client.post(f"/admin/catalog/product/{product.pk}/change/", form)
    assert response.status_code == 200
    return response.context["inline_admin_formsets"][0].formset.errors[0]


def test_an_image_above_the_size_limit_is_refused(refuses, settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 1024
    large = image_file("large.png", size=(400, 400))

    errors = refuses(large)

    assert list(errors) == ["image"]
    assert errors["image"][0].startswith("The image is ")


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
def test_a_file_that_is_not_an_image_is_refused(refuses, name, content, content_type):
    errors = refuses(SimpleUploadedFile(name, content, content_type))

    assert list(errors) == ["image"]


@pytest.mark.parametrize("name", ["shell.php", "page.html", "image.svg", "run.sh", "x"])
def test_an_image_under_another_extension_is_refused(refuses, name):
    errors = refuses(image_file(name))

    assert list(errors) == ["image"]


def test_a_decompression_bomb_is_refused(refuses):
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), "image/png")

    errors = refuses(bomb)

    assert list(errors) == ["image"]


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
