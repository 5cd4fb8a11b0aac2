import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import StaffFactory, UserFactory
from catalog import images
from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductVariant,
    StockMovement,
)
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    SizedProductFactory,
    image_file,
    image_inline_form,
)
from core.text import CONTROL_MESSAGE

pytestmark = pytest.mark.django_db

Reason = StockMovement.Reason
PRODUCTS = "/admin/catalog/product/"
CATEGORIES = "/admin/catalog/category/"


def change_url(product):
    return f"{PRODUCTS}{product.pk}/change/"


def product_form(product, *pictures, **changes):
    """The change form as the browser would post it back, with changes.

    `pictures` are the inline's forms: the product's pictures as they are
    unless given.
    """
    if not pictures:
        pictures = [
            {"id": image.pk, "alt_text": image.alt_text, "position": image.position}
            for image in product.images.all()
        ]
    initial = product.images.count()
    form = {
        **image_inline_form(*pictures, initial=initial),
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "description": product.description,
        "price": str(product.price),
        "stock_change": "",
        "stock_reason": Reason.ADJUSTMENT,
        "stock_reference": "",
    }
    if product.is_active:
        form["is_active"] = "on"
    form.update(inline_forms(product))
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def inline_forms(product):
    """The option types' and variants' inline forms, as the page holds them."""
    options = list(product.option_types.all())
    variants = list(product.variants.all())
    form = {
        "option_types-TOTAL_FORMS": len(options),
        "option_types-INITIAL_FORMS": len(options),
        "variants-TOTAL_FORMS": len(variants),
        "variants-INITIAL_FORMS": len(variants),
    }
    for number, option in enumerate(options):
        prefix = f"option_types-{number}-"
        form |= {
            f"{prefix}id": option.pk,
            f"{prefix}product": product.pk,
            f"{prefix}name": option.name,
            f"{prefix}values": ",".join(option.values),
            f"{prefix}position": option.position,
        }
    for number, variant in enumerate(variants):
        prefix = f"variants-{number}-"
        form |= {
            f"{prefix}id": variant.pk,
            f"{prefix}product": product.pk,
            f"{prefix}sku": variant.sku,
            f"{prefix}options": json.dumps(variant.options),
            f"{prefix}price": str(variant.price),
            f"{prefix}compare_at_price": str(variant.compare_at_price or ""),
            f"{prefix}position": variant.position,
            f"{prefix}stock_change": "",
        }
        if variant.is_active:
            form[f"{prefix}is_active"] = "on"
    return form


@pytest.fixture
def catalog_staff_client(client):
    """A staff member who holds the catalog's permissions (not a superuser)."""
    staff = StaffFactory()
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog")
    )
    client.force_login(staff)
    return client


# --- Who may enter ------------------------------------------------------------


def test_a_customer_cannot_reach_the_catalog_admin(client):
    client.force_login(UserFactory())

    response = client.get(PRODUCTS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_catalog_permissions_cannot_open_products(client):
    client.force_login(StaffFactory())

    assert client.get(PRODUCTS).status_code == 403


# --- Products -----------------------------------------------------------------


def test_product_changelist_shows_the_columns_without_a_query_per_row(
    catalog_staff_client, django_assert_max_num_queries
):
    ProductFactory(sku="MUG-1", name="Blue Mug", price=Decimal("12.50"), stock=3)
    ProductFactory.create_batch(20)

    with django_assert_max_num_queries(12):
        response = catalog_staff_client.get(PRODUCTS)

    assert response.status_code == 200
    html = response.content.decode()
    for column in ["SKU", "Name", "Category", "Price", "Stock", "Active", "Updated at"]:
        assert f">{column}<" in html
    assert "MUG-1" in html
    assert 'name="form-0-price"' in html
    assert 'name="form-0-is_active"' in html


def test_product_changelist_searches_name_and_sku(catalog_staff_client):
    ProductFactory(sku="MUG-1", name="Blue Mug")
    ProductFactory(sku="TEA-1", name="Green tea")

    by_name = catalog_staff_client.get(PRODUCTS, {"q": "green"})
    by_sku = catalog_staff_client.get(PRODUCTS, {"q": "mug-1"})

    assert list(by_name.context["cl"].result_list.values_list("sku", flat=True)) == [
        "TEA-1"
    ]
    assert list(by_sku.context["cl"].result_list.values_list("sku", flat=True)) == [
        "MUG-1"
    ]


@pytest.mark.parametrize(
    ("level", "expected"),
    [("low", ["LOW"]), ("out", ["OUT"]), ("in", ["PLENTY", "LOW"])],
)
def test_product_changelist_filters_by_stock_level(
    catalog_staff_client, settings, level, expected
):
    settings.CATALOG_LOW_STOCK = 5
    ProductFactory(sku="LOW", stock=5)
    ProductFactory(sku="OUT", stock=0)
    ProductFactory(sku="PLENTY", stock=6)

    response = catalog_staff_client.get(PRODUCTS, {"stock_level": level})

    result = response.context["cl"].result_list
    assert list(result.values_list("sku", flat=True)) == expected


def test_product_changelist_orders_by_stock_to_find_low_stock(catalog_staff_client):
    ProductFactory(sku="MANY", stock=50)
    ProductFactory(sku="FEW", stock=1)
    ProductFactory(sku="SOME", stock=8)

    # "o=5" sorts by the fifth column, stock, ascending.
    response = catalog_staff_client.get(PRODUCTS, {"o": "5"})

    result = response.context["cl"].result_list
    assert list(result.values_list("sku", flat=True)) == ["FEW", "SOME", "MANY"]


def test_product_changelist_filters_by_category_and_active_flag(catalog_staff_client):
    kitchen = CategoryFactory()
    ProductFactory(sku="ON", category=kitchen)
    ProductFactory(sku="OFF", category=kitchen, is_active=False)
    ProductFactory(sku="ELSEWHERE")

    response = catalog_staff_client.get(
        PRODUCTS, {"category__id__exact": kitchen.pk, "is_active__exact": "0"}
    )

    result = response.context["cl"].result_list
    assert list(result.values_list("sku", flat=True)) == ["OFF"]


def test_staff_save_prices_and_active_flags_from_the_list(catalog_staff_client):
    product = ProductFactory(price=Decimal("5.00"), is_active=True)

    response = catalog_staff_client.post(
        PRODUCTS,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(product.pk),
            "form-0-price": "6.00",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.is_active) == (Decimal("6.00"), False)


def test_a_list_edit_with_a_bad_price_is_shown_beside_the_field(catalog_staff_client):
    product = ProductFactory(price=Decimal("5.00"))

    response = catalog_staff_client.post(
        PRODUCTS,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(product.pk),
            "form-0-price": "-1",
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert response.context["cl"].formset.errors[0]["price"]
    product.refresh_from_db()
    assert product.price == Decimal("5.00")


@pytest.mark.parametrize(
    ("action", "start", "end"), [("activate", False, True), ("deactivate", True, False)]
)
def test_bulk_actions_activate_and_deactivate_many_products(
    catalog_staff_client, action, start, end
):
    chosen = ProductFactory.create_batch(2, is_active=start)
    other = ProductFactory(is_active=start)

    response = catalog_staff_client.post(
        PRODUCTS,
        {"action": action, "_selected_action": [p.pk for p in chosen]},
        follow=True,
    )

    assert response.status_code == 200
    assert f"2 products {action}d." in response.content.decode()
    flags = dict(Product.objects.values_list("pk", "is_active"))
    assert flags == {chosen[0].pk: end, chosen[1].pk: end, other.pk: start}


def test_the_change_form_opens_with_stock_read_only_and_an_adjustment_field(
    catalog_staff_client, media_root
):
    product = ProductFactory(stock=7, image=image_file("mug.png"))

    response = catalog_staff_client.get(change_url(product))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "stock" not in form.fields
    assert {"stock_change", "stock_reason", "stock_reference"} <= set(form.fields)
    html = response.content.decode()
    preview = product.images.get().renditions["thumbnail"]["jpeg"][0]["name"]
    assert f'<img src="/media/{preview}" alt="{product.name}" width="120">' in html
    assert 'name="images-0-alt_text"' in html
    assert f"/admin/catalog/stockmovement/?product__id__exact={product.pk}" in html


def test_the_inline_previews_a_picture_without_renditions_by_its_original(
    catalog_staff_client,
):
    product = ProductFactory(name="Pan")
    # As migration 0010 leaves it, until make_image_renditions runs.
    ProductImage.objects.create(product=product, image="products/pan.png")

    response = catalog_staff_client.get(change_url(product))

    html = response.content.decode()
    assert '<img src="/media/products/pan.png" alt="" width="120">' in html


def test_staff_save_the_change_form(catalog_staff_client):
    product = ProductFactory(name="Old", price=Decimal("5.00"))

    response = catalog_staff_client.post(
        change_url(product), product_form(product, name="New", price="5.50")
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.price) == ("New", Decimal("5.50"))


def test_stock_posted_directly_is_ignored(catalog_staff_client):
    product = ProductFactory(stock=7)

    catalog_staff_client.post(change_url(product), product_form(product, stock="999"))

    product.refresh_from_db()
    assert product.stock == 7


def test_adjusting_stock_in_the_change_form_writes_a_movement(catalog_staff_client):
    product = ProductFactory(stock=7)

    response = catalog_staff_client.post(
        change_url(product),
        product_form(
            product,
            stock_change="-2",
            stock_reason=Reason.DAMAGE,
            stock_reference="dropped",
        ),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.stock == 5
    movement = StockMovement.objects.filter(product=product).latest("id")
    assert (
        movement.quantity,
        movement.stock_after,
        movement.reason,
        movement.reference,
    ) == (-2, 5, Reason.DAMAGE, "dropped")
    assert movement.user == response.wsgi_request.user


def test_removing_more_stock_than_there_is_is_refused_beside_the_field(
    catalog_staff_client,
):
    product = ProductFactory(stock=3)

    response = catalog_staff_client.post(
        change_url(product), product_form(product, stock_change="-4")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["stock_change"] == [
        "Only 3 in stock: cannot remove 4."
    ]
    product.refresh_from_db()
    assert product.stock == 3


def test_staff_add_a_product_with_initial_stock_and_a_derived_slug(
    catalog_staff_client, media_root
):
    category = CategoryFactory()

    response = catalog_staff_client.post(
        f"{PRODUCTS}add/",
        {
            "sku": "MUG-1",
            "name": "Blue Mug",
            "slug": "",
            "category": category.pk,
            "description": "",
            "price": "12.50",
            "is_active": "on",
            "stock_change": "6",
            "stock_reference": "opening count",
            **image_inline_form(
                {"image": image_file("mug.png"), "alt_text": "", "position": "0"}
            ),
        },
    )

    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.slug, product.stock) == ("blue-mug", 6)
    image = product.images.get()
    assert image.image.name.endswith(".png")
    assert image.alt_text == "Blue Mug"
    assert image.renditions["thumbnail"]["webp"][0]["name"].endswith(".webp")
    movement = StockMovement.objects.get(product=product)
    assert (movement.quantity, movement.reason, movement.reference) == (
        6,
        Reason.INITIAL,
        "opening count",
    )


def test_the_add_form_refuses_a_zero_price(catalog_staff_client):
    category = CategoryFactory()

    response = catalog_staff_client.post(
        f"{PRODUCTS}add/",
        {
            "sku": "X",
            "name": "X",
            "category": category.pk,
            "price": "0",
            **image_inline_form(),
        },
    )

    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors
    assert not Product.objects.exists()


# --- Pictures inline ----------------------------------------------------------


def test_staff_add_pictures_in_the_inline_with_their_renditions(
    catalog_staff_client, media_root
):
    product = ProductFactory(name="Pan")

    response = catalog_staff_client.post(
        change_url(product),
        product_form(
            product,
            {"image": image_file("top.png"), "alt_text": "From above", "position": "1"},
            {"image": image_file("side.png"), "alt_text": "", "position": "0"},
        ),
    )

    assert response.status_code == 302
    assert [(image.alt_text, image.position) for image in product.images.all()] == [
        ("Pan", 0),
        ("From above", 1),
    ]
    for image in product.images.all():
        for rendition in images.renditions(image, "medium", "jpeg"):
            assert rendition.url.startswith("/media/products/renditions/")


def test_staff_reorder_retext_and_remove_pictures_in_the_inline(
    catalog_staff_client, media_root, django_capture_on_commit_callbacks
):
    product = ProductFactory(name="Pan")
    first = images.add_image(product=product, image=image_file("a.png"))
    second = images.add_image(product=product, image=image_file("b.png"))
    third = images.add_image(product=product, image=image_file("c.png"))

    with django_capture_on_commit_callbacks(execute=True):
        response = catalog_staff_client.post(
            change_url(product),
            product_form(
                product,
                {"id": first.pk, "alt_text": "Now last", "position": "5"},
                {"id": second.pk, "alt_text": "Pan", "position": "0", "DELETE": "on"},
                {"id": third.pk, "alt_text": "Pan", "position": "1"},
            ),
        )

    assert response.status_code == 302
    assert [(image.pk, image.alt_text) for image in product.images.all()] == [
        (third.pk, "Pan"),
        (first.pk, "Now last"),
    ]
    assert not (media_root / second.image.name).exists()


def test_the_inline_refuses_a_file_that_is_not_an_image(
    catalog_staff_client, media_root
):
    product = ProductFactory()

    response = catalog_staff_client.post(
        change_url(product),
        product_form(
            product,
            {"image": image_file("notes.txt"), "alt_text": "", "position": "0"},
        ),
    )

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert list(errors[0]) == ["image"]
    assert not product.images.exists()


def test_the_inline_refuses_a_control_character_in_the_alt_text(
    catalog_staff_client, media_root
):
    product = ProductFactory()
    image = images.add_image(product=product, image=image_file("a.png"))

    response = catalog_staff_client.post(
        change_url(product),
        product_form(
            product, {"id": image.pk, "alt_text": "A\u202emug", "position": "0"}
        ),
    )

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[0]["alt_text"] == [CONTROL_MESSAGE]
    image.refresh_from_db()
    assert image.alt_text == product.name


def test_stock_movements_of_one_product_are_listed_read_only(catalog_staff_client):
    product = ProductFactory(stock=5)
    ProductFactory(stock=9)

    response = catalog_staff_client.get(
        "/admin/catalog/stockmovement/", {"product__id__exact": product.pk}
    )

    assert response.status_code == 200
    result = response.context["cl"].result_list
    assert list(result.values_list("quantity", flat=True)) == [5]
    movement = result[0]
    assert (
        catalog_staff_client.get(
            f"/admin/catalog/stockmovement/{movement.pk}/change/"
        ).status_code
        == 200
    )
    assert (
        catalog_staff_client.post(
            f"/admin/catalog/stockmovement/{movement.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert StockMovement.objects.filter(pk=movement.pk).exists()


# --- Categories ---------------------------------------------------------------


def test_category_changelist_shows_parents_and_product_counts(
    catalog_staff_client, django_assert_max_num_queries
):
    kitchen = CategoryFactory(name="Kitchen")
    for category in CategoryFactory.create_batch(10, parent=kitchen):
        ProductFactory.create_batch(2, category=category)

    with django_assert_max_num_queries(10):
        response = catalog_staff_client.get(CATEGORIES)

    assert response.status_code == 200
    rows = {
        c.name: (c.parent, c.product_total) for c in response.context["cl"].result_list
    }
    assert rows.pop("Kitchen") == (None, 0)
    assert set(rows.values()) == {(kitchen, 2)}
    assert len(rows) == 10


def test_staff_add_and_change_a_category(catalog_staff_client):
    parent = CategoryFactory(name="Kitchen")

    added = catalog_staff_client.post(
        f"{CATEGORIES}add/",
        {"name": "Mugs", "slug": "mugs", "parent": parent.pk, "position": "1"},
    )
    category = Category.objects.get(slug="mugs")
    opened = catalog_staff_client.get(f"{CATEGORIES}{category.pk}/change/")
    changed = catalog_staff_client.post(
        f"{CATEGORIES}{category.pk}/change/",
        {"name": "Cups", "slug": "cups", "parent": "", "position": "2"},
    )

    assert (added.status_code, opened.status_code, changed.status_code) == (
        302,
        200,
        302,
    )
    category.refresh_from_db()
    assert (category.name, category.slug, category.parent, category.position) == (
        "Cups",
        "cups",
        None,
        2,
    )


def test_a_category_cannot_be_moved_under_its_own_child_in_the_admin(
    catalog_staff_client,
):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)

    response = catalog_staff_client.post(
        f"{CATEGORIES}{root.pk}/change/",
        {"name": "Root", "slug": root.slug, "parent": child.pk, "position": "0"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"]
    root.refresh_from_db()
    assert root.parent is None


# --- Variants ---------------------------------------------------------------

VARIANTS = "/admin/catalog/productvariant/"


def form_of(product, **changes):
    """The product's change form posted back unchanged but for `changes`."""
    return product_form(product, **changes)


def test_the_change_form_shows_the_variants_and_option_types_inline(
    catalog_staff_client,
):
    product = SizedProductFactory()

    html = catalog_staff_client.get(change_url(product)).text

    assert 'name="variants-TOTAL_FORMS" value="3"' in html
    assert 'name="option_types-TOTAL_FORMS" value="1"' in html
    assert product.variants.get(sku__endswith="-L").sku in html


def test_a_variants_price_edited_inline_moves_the_from_price(catalog_staff_client):
    product = SizedProductFactory()
    index = list(product.variants.all()).index(product.variants.get(sku__endswith="-M"))

    response = catalog_staff_client.post(
        change_url(product),
        form_of(product, **{f"variants-{index}-price": "8.00"}),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("8.00")


def test_stock_added_inline_is_a_movement(catalog_staff_client):
    product = SizedProductFactory()
    medium = product.variants.get(sku__endswith="-M")
    index = list(product.variants.all()).index(medium)

    catalog_staff_client.post(
        change_url(product),
        form_of(product, **{f"variants-{index}-stock_change": "4"}),
    )

    medium.refresh_from_db()
    assert medium.stock == 4
    movement = StockMovement.objects.filter(variant=medium).latest("pk")
    assert (movement.quantity, movement.reason) == (4, "adjustment")
    assert Product.objects.get(pk=product.pk).stock == 12


def test_a_new_variant_added_inline_takes_its_initial_stock(catalog_staff_client):
    product = SizedProductFactory(option_types={"Size": ["S", "M", "L", "XL"]})
    form = form_of(product)
    form |= {
        "variants-TOTAL_FORMS": 4,
        "variants-3-product": product.pk,
        "variants-3-sku": "NEW-XL",
        "variants-3-options": '{"Size": "XL"}',
        "variants-3-price": "13.00",
        "variants-3-position": 3,
        "variants-3-stock_change": "2",
        "variants-3-is_active": "on",
    }

    response = catalog_staff_client.post(change_url(product), form)

    assert response.status_code == 302
    variant = ProductVariant.objects.get(sku="NEW-XL")
    assert (variant.options, variant.stock) == ({"Size": "XL"}, 2)


def test_a_variant_that_does_not_fit_the_options_saves_nothing(catalog_staff_client):
    product = SizedProductFactory()
    form = form_of(product)
    form |= {
        "variants-TOTAL_FORMS": 4,
        "variants-3-product": product.pk,
        "variants-3-sku": "NEW-XXL",
        "variants-3-options": '{"Size": "XXL"}',
        "variants-3-price": "13.00",
        "variants-3-position": 3,
    }

    response = catalog_staff_client.post(change_url(product), form, follow=True)

    assert "Nothing was saved" in response.text
    assert not ProductVariant.objects.filter(sku="NEW-XXL").exists()


def test_bulk_set_price_and_change_by_percent(catalog_staff_client):
    product = SizedProductFactory()
    ids = list(product.variants.values_list("pk", flat=True))

    catalog_staff_client.post(
        VARIANTS,
        {"action": "set_price", "_selected_action": ids[:2], "amount": "9.00"},
    )
    catalog_staff_client.post(
        VARIANTS,
        {"action": "change_price_by_percent", "_selected_action": ids, "amount": "-50"},
    )

    assert list(
        product.variants.order_by("position").values_list("price", flat=True)
    ) == [Decimal("4.50"), Decimal("4.50"), Decimal("7.00")]
    assert Product.objects.get(pk=product.pk).price == Decimal("4.50")


def test_bulk_set_stock_records_a_movement_per_variant(catalog_staff_client):
    product = SizedProductFactory()
    ids = list(product.variants.values_list("pk", flat=True))

    catalog_staff_client.post(
        VARIANTS, {"action": "set_stock", "_selected_action": ids, "amount": "7"}
    )

    assert list(product.variants.values_list("stock", flat=True)) == [7, 7, 7]
    assert Product.objects.get(pk=product.pk).stock == 21
    assert (
        StockMovement.objects.filter(
            variant__product=product, reason="adjustment"
        ).count()
        == 3
    )


def test_a_new_product_from_the_admin_gets_its_default_variant(catalog_staff_client):
    category = CategoryFactory()

    catalog_staff_client.post(
        "/admin/catalog/product/add/",
        {
            "sku": "ADM-1",
            "name": "Admin mug",
            "slug": "",
            "category": category.pk,
            "description": "",
            "price": "3.00",
            "is_active": "on",
            "stock_change": "5",
            "stock_reference": "",
            **image_inline_form(),
        },
    )

    variant = ProductVariant.objects.get(sku="ADM-1")
    assert (variant.price, variant.stock, variant.options) == (Decimal("3.00"), 5, {})


def test_a_single_variant_products_price_still_edits_from_the_list(
    catalog_staff_client,
):
    product = ProductFactory(price=Decimal("5.00"))

    catalog_staff_client.post(change_url(product), product_form(product, price="6.00"))

    assert product.variants.get().price == Decimal("6.00")
