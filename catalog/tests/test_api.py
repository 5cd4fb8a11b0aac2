from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import images
from catalog.models import Category, Product, StockMovement
from catalog.tests.factories import CategoryFactory, ProductFactory, image_file
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


def product_url(product):
    return f"{PRODUCTS}{product.slug}/"


def category_url(category):
    return f"{CATEGORIES}{category.slug}/"


def new_product(in_category, **fields):
    return {
        "sku": "MUG-1",
        "name": "Blue Mug",
        "price": "12.50",
        "stock": 4,
        "category": in_category.slug,
        **fields,
    }


# --- Categories ---------------------------------------------------------------


def test_category_list_shows_parent_slug_and_active_products_of_the_subtree(
    api_client,
):
    kitchen = CategoryFactory(name="Kitchen", description="Pots and pans.")
    mugs = CategoryFactory(name="Mugs", parent=kitchen)
    ProductFactory(category=kitchen)
    ProductFactory.create_batch(2, category=mugs)
    ProductFactory(category=mugs, is_active=False)

    response = api_client.get(CATEGORIES)

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": kitchen.pk,
                "name": "Kitchen",
                "slug": "kitchen",
                "description": "Pots and pans.",
                "parent": None,
                "product_count": 3,
            },
            {
                "id": mugs.pk,
                "name": "Mugs",
                "slug": "mugs",
                "description": "Things worth having.",
                "parent": "kitchen",
                "product_count": 2,
            },
        ],
    }


def test_category_detail_is_looked_up_by_slug(api_client):
    category = CategoryFactory(name="Tea")

    response = api_client.get("/api/v1/categories/tea/")

    assert response.status_code == 200
    assert response.json()["id"] == category.pk


def test_unknown_category_is_404(api_client):
    assert_problem(api_client.get("/api/v1/categories/nope/"), 404, "not_found")


def test_staff_create_a_category_with_a_derived_slug_and_a_parent(staff_client):
    CategoryFactory(name="Kitchen")

    response = staff_client.post(
        CATEGORIES, {"name": "Tea Pots", "parent": "kitchen"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "tea-pots"
    assert response.json()["parent"] == "kitchen"
    assert response.json()["product_count"] == 0
    assert Category.objects.get(slug="tea-pots").parent.slug == "kitchen"


def test_creating_a_category_with_a_taken_slug_is_400(staff_client):
    CategoryFactory(name="Kitchen")

    response = staff_client.post(
        CATEGORIES, {"name": "Other", "slug": "kitchen"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["slug"]


def test_creating_a_category_under_an_unknown_parent_is_400(staff_client):
    response = staff_client.post(
        CATEGORIES, {"name": "Other", "parent": "nope"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["parent"]


def test_moving_a_category_under_its_own_subcategory_is_400(staff_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)

    response = staff_client.patch(
        category_url(root), {"parent": child.slug}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == {
        "parent": ["A category cannot sit inside itself or its own subcategories."]
    }


def test_staff_delete_an_empty_category(staff_client):
    category = CategoryFactory()

    response = staff_client.delete(category_url(category))

    assert response.status_code == 204
    assert not Category.objects.filter(pk=category.pk).exists()


def test_deleting_a_category_that_still_has_products_is_409(staff_client):
    product = ProductFactory()

    response = staff_client.delete(category_url(product.category))

    assert_problem(response, 409, "conflict")
    assert Category.objects.filter(pk=product.category_id).exists()


def test_deleting_a_category_that_still_has_subcategories_is_409(staff_client):
    root = CategoryFactory()
    CategoryFactory(parent=root)

    assert_problem(staff_client.delete(category_url(root)), 409, "conflict")


@pytest.mark.parametrize(
    ("method", "path_of", "body"),
    [
        ("post", lambda c: CATEGORIES, {"name": "New"}),
        ("patch", category_url, {"name": "Renamed"}),
        ("put", category_url, {"name": "Renamed"}),
        ("delete", category_url, None),
    ],
)
def test_category_writes_are_for_staff_only(
    api_client, customer_client, method, path_of, body
):
    category = CategoryFactory(name="Kitchen")
    path = path_of(category)

    anonymous = getattr(api_client, method)(path, body, format="json")
    customer = getattr(customer_client, method)(path, body, format="json")

    assert_problem(anonymous, 401, "not_authenticated")
    assert_problem(customer, 403, "permission_denied")
    assert Category.objects.get().name == "Kitchen"


# --- Products: reading --------------------------------------------------------


def test_product_list_shows_the_contract_fields(api_client, settings):
    settings.STORE_CURRENCY = "EUR"
    category = CategoryFactory(name="Kitchen")
    product = ProductFactory(
        sku="MUG-1",
        name="Blue Mug",
        description="Holds tea.",
        price=Decimal("12.50"),
        stock=4,
        category=category,
    )

    response = api_client.get(PRODUCTS)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": product.pk,
            "sku": "MUG-1",
            "name": "Blue Mug",
            "slug": "blue-mug",
            "description": "Holds tea.",
            "price": "12.50",
            "currency": "EUR",
            "stock": 4,
            "in_stock": True,
            "category": {"id": category.pk, "name": "Kitchen", "slug": "kitchen"},
            "image": None,
            "images": [],
            "is_active": True,
            "created_at": product.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": product.updated_at.isoformat().replace("+00:00", "Z"),
            "compare_at_price": None,
            "variants": [
                {
                    "id": product.variants.get().pk,
                    "sku": "MUG-1",
                    "options": {},
                    "price": "12.50",
                    "compare_at_price": None,
                    "stock": 4,
                    "in_stock": True,
                    "is_active": True,
                }
            ],
            "option_types": [],
        }
    ]


def test_product_detail_is_looked_up_by_slug(api_client):
    product = ProductFactory(name="Blue Mug", stock=0)

    response = api_client.get("/api/v1/products/blue-mug/")

    assert response.status_code == 200
    assert response.json()["id"] == product.pk
    assert response.json()["in_stock"] is False


def test_unknown_product_is_404(api_client):
    assert_problem(api_client.get(f"{PRODUCTS}nope/"), 404, "not_found")


def test_inactive_products_are_hidden_from_the_public(api_client, customer_client):
    ProductFactory(name="Shown")
    hidden = ProductFactory(name="Hidden", is_active=False)

    listed = api_client.get(PRODUCTS).json()["results"]

    assert [product["name"] for product in listed] == ["Shown"]
    assert_problem(api_client.get(product_url(hidden)), 404, "not_found")
    assert_problem(customer_client.get(product_url(hidden)), 404, "not_found")
    assert customer_client.get(PRODUCTS).json()["count"] == 1


def test_staff_see_inactive_products(staff_client):
    ProductFactory(name="Shown")
    hidden = ProductFactory(name="Hidden", is_active=False)

    listed = staff_client.get(PRODUCTS).json()["results"]
    detail = staff_client.get(product_url(hidden))

    assert {product["name"] for product in listed} == {"Shown", "Hidden"}
    assert detail.status_code == 200
    assert detail.json()["is_active"] is False


def test_product_images_are_absolute_urls_in_order(api_client, media_root):
    product = ProductFactory(name="Blue Mug", image=image_file("mug.png"))
    side = images.add_image(
        product=product, image=image_file("side.jpg", "JPEG"), alt_text="Its side"
    )
    main = product.images.first()

    response = api_client.get(PRODUCTS)

    answer = response.json()["results"][0]
    media = "http://testserver/media/"
    assert answer["image"] == media + main.image.name
    assert answer["images"] == [
        {
            "url": media + picture.image.name,
            "alt": alt,
            "thumbnail": media + picture.renditions["thumbnail"]["webp"][0]["name"],
            "medium": media + picture.renditions["medium"]["webp"][0]["name"],
        }
        for picture, alt in [(main, "Blue Mug"), (side, "Its side")]
    ]
    assert answer["image"].endswith(".png")
    assert answer["images"][1]["thumbnail"].endswith(".webp")


# --- Products: writing --------------------------------------------------------


def test_staff_create_a_product_with_a_derived_slug_and_initial_stock(
    staff_client, staff
):
    category = CategoryFactory(name="Kitchen")

    response = staff_client.post(PRODUCTS, new_product(category), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["price"], body["stock"]) == ("blue-mug", "12.50", 4)
    assert body["category"] == {"id": category.pk, "name": "Kitchen", "slug": "kitchen"}
    movement = StockMovement.objects.get(product_id=body["id"])
    assert (movement.quantity, movement.reason, movement.user) == (
        4,
        StockMovement.Reason.INITIAL,
        staff,
    )


def test_a_derived_slug_is_suffixed_when_the_name_is_taken(staff_client):
    existing = ProductFactory(name="Blue Mug")

    response = staff_client.post(
        PRODUCTS, new_product(existing.category, sku="MUG-2"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["slug"] == "blue-mug-2"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price": "0.00"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "1.999"}, "price"),
        ({"price": "abc"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),
        ({"category": "nope"}, "category"),
        ({"sku": ""}, "sku"),
        ({"name": ""}, "name"),
        ({"slug": "not a slug"}, "slug"),
    ],
)
def test_creating_a_product_with_a_bad_field_is_400_naming_it(
    staff_client, fields, field
):
    category = CategoryFactory()

    response = staff_client.post(
        PRODUCTS, new_product(category, **fields), format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [field]
    assert not Product.objects.exists()


def test_creating_a_product_with_a_taken_sku_is_400(staff_client):
    existing = ProductFactory(sku="MUG-1")

    response = staff_client.post(
        PRODUCTS, new_product(existing.category, sku="MUG-1"), format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["sku"]


def test_creating_a_product_with_a_taken_explicit_slug_is_400(staff_client):
    existing = ProductFactory(name="Blue Mug")

    response = staff_client.post(
        PRODUCTS,
        new_product(existing.category, sku="MUG-2", slug="blue-mug"),
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["slug"]


def test_staff_change_a_product_and_move_it_to_another_category(staff_client):
    product = ProductFactory(price=Decimal("5.00"))
    other = CategoryFactory(name="Garden")

    response = staff_client.patch(
        product_url(product),
        {"price": "6.25", "category": "garden", "is_active": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["price"] == "6.25"
    assert response.json()["category"]["slug"] == "garden"
    product.refresh_from_db()
    assert (product.price, product.category, product.is_active) == (
        Decimal("6.25"),
        other,
        False,
    )


def test_a_stock_patch_is_recorded_as_an_adjustment_by_the_staff_member(
    staff_client, staff
):
    product = ProductFactory(stock=10)

    response = staff_client.patch(product_url(product), {"stock": 3}, format="json")

    assert response.status_code == 200
    assert response.json()["stock"] == 3
    movement = StockMovement.objects.filter(product=product).latest("id")
    assert (movement.quantity, movement.stock_after, movement.reason) == (
        -7,
        3,
        StockMovement.Reason.ADJUSTMENT,
    )
    assert movement.user == staff


def test_a_put_replaces_the_product_fields(staff_client):
    product = ProductFactory(name="Old", stock=2)

    response = staff_client.put(
        product_url(product),
        new_product(product.category, sku=product.sku, name="New", slug="new"),
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["slug"]) == ("New", "new")
    assert response.json()["stock"] == 4


def test_staff_delete_a_product(staff_client):
    product = ProductFactory()

    response = staff_client.delete(product_url(product))

    assert response.status_code == 204
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("method", "body"),
    [("post", {"name": "New"}), ("patch", {"price": "1.00"}), ("delete", None)],
)
def test_product_writes_are_for_staff_only(api_client, customer_client, method, body):
    product = ProductFactory(price=Decimal("9.00"))
    path = PRODUCTS if method == "post" else product_url(product)

    anonymous = getattr(api_client, method)(path, body, format="json")
    customer = getattr(customer_client, method)(path, body, format="json")

    assert_problem(anonymous, 401, "not_authenticated")
    assert_problem(customer, 403, "permission_denied")
    assert list(Product.objects.values_list("price", flat=True)) == [Decimal("9.00")]


def test_staff_upload_a_product_image_as_multipart(staff_client, media_root):
    category = CategoryFactory()

    response = staff_client.post(
        PRODUCTS,
        {**new_product(category), "image": image_file("mug.jpg", "JPEG")},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    product = Product.objects.get()
    image = product.images.get()
    assert (image.alt_text, image.position) == (product.name, 0)
    assert (media_root / image.image.name).is_file()
    answer = response.json()
    assert answer["image"] == f"http://testserver/media/{image.image.name}"
    assert answer["images"][0]["url"] == answer["image"]
    assert answer["images"][0]["medium"].endswith(".webp")


def test_staff_replace_the_first_image_and_keep_the_others(
    staff_client, media_root, django_capture_on_commit_callbacks
):
    product = ProductFactory(image=image_file("old.png"))
    old = product.images.get()
    side = images.add_image(product=product, image=image_file("side.png"))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.patch(
            product_url(product),
            {"image": image_file("new.jpg", "JPEG")},
            format="multipart",
        )

    assert response.status_code == 200, response.content
    first, second = product.images.all()
    assert (first.pk, second.pk) == (old.pk, side.pk)
    assert first.image.name.endswith("new.jpg")
    assert not (media_root / old.image.name).exists()
    answer = response.json()
    assert [picture["url"] for picture in answer["images"]] == [
        f"http://testserver/media/{first.image.name}",
        f"http://testserver/media/{side.image.name}",
    ]


def test_staff_remove_the_first_image_with_null(staff_client, media_root):
    product = ProductFactory(image=image_file("old.png"))
    side = images.add_image(product=product, image=image_file("side.png"))

    response = staff_client.patch(product_url(product), {"image": None}, format="json")

    assert response.status_code == 200, response.content
    assert list(product.images.all()) == [side]
    assert response.json()["image"] == f"http://testserver/media/{side.image.name}"


def test_a_change_without_image_keeps_the_images(staff_client, media_root):
    product = ProductFactory(image=image_file("mug.png"))
    image = product.images.get()

    response = staff_client.patch(product_url(product), {"name": "New"}, format="json")

    assert response.status_code == 200, response.content
    assert list(product.images.all()) == [image]
    assert len(response.json()["images"]) == 1


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("mug.png", b"not an image", "image/png"),
        image_file("mug.bmp", "BMP"),
    ],
)
def test_uploading_something_other_than_an_image_is_400(
    staff_client, media_root, upload
):
    category = CategoryFactory()

    response = staff_client.post(
        PRODUCTS, {**new_product(category), "image": upload}, format="multipart"
    )

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["image"]


def test_uploading_an_image_above_the_size_limit_is_400(
    staff_client, media_root, settings
):
    settings.CATALOG_IMAGE_MAX_BYTES = 10
    category = CategoryFactory()

    response = staff_client.post(
        PRODUCTS,
        {**new_product(category), "image": image_file(size=(64, 64))},
        format="multipart",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"]["image"][0].startswith("The image is ")
