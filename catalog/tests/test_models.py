from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog import services
from catalog.models import Category, Product
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    variant_of,
)
from core.text import CONTROL_MESSAGE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", [Decimal("0.00"), Decimal("-1.00")])
def test_database_refuses_a_price_that_is_not_positive(price):
    product = ProductFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(price=price)


def test_database_refuses_negative_stock():
    product = ProductFactory(stock=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=-1)


def test_database_refuses_a_duplicate_sku():
    ProductFactory(sku="MUG-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="MUG-1")


def test_slug_is_derived_from_the_name_and_suffixed_to_stay_unique():
    first = ProductFactory(name="Blue Mug")
    second = ProductFactory(name="Blue Mug")
    third = ProductFactory(name="Blue Mug")

    assert [first.slug, second.slug, third.slug] == [
        "blue-mug",
        "blue-mug-2",
        "blue-mug-3",
    ]


def test_slug_of_a_name_without_letters_falls_back_to_the_model_name():
    product = ProductFactory(name="!!!")

    assert product.slug == "product"


def test_category_slug_is_derived_and_suffixed():
    first = CategoryFactory(name="Home & Garden")
    second = CategoryFactory(name="Home & Garden")

    assert (first.slug, second.slug) == ("home-garden", "home-garden-2")


def test_explicit_slug_is_kept():
    product = ProductFactory(name="Blue Mug", slug="the-mug")

    assert product.slug == "the-mug"


def test_saving_a_loaded_product_does_not_write_back_a_stale_stock():
    product = ProductFactory(stock=10)
    stale = Product.objects.get(pk=product.pk)
    Product.objects.filter(pk=product.pk).update(stock=7)  # a sale meanwhile

    stale.price = Decimal("5.00")
    stale.save()

    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("5.00"), 7)


def test_setting_stock_by_hand_is_refused_so_the_ledger_stays_whole():
    product = ProductFactory(stock=10)
    product.stock = 3

    with pytest.raises(ValueError, match=r"only through catalog\.services"):
        product.save()

    assert Product.objects.get(pk=product.pk).stock == 10


def test_a_product_saves_again_after_the_stock_service_changed_it():
    product = ProductFactory(stock=10)
    services.adjust_stock(variant=variant_of(product), quantity=-2)

    product.name = "Renamed"
    product.save()

    product.refresh_from_db()
    assert (product.name, product.stock) == ("Renamed", 8)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("sku", "MUG\u202e-1"),
        ("name", "Blue\u0008Mug"),
        ("name", "Blue\nMug"),
        ("description", "Holds tea.\u001b[2J"),
        ("description", "\u2067Holds tea."),
    ],
)
def test_full_clean_refuses_control_characters_in_a_products_text(field, text):
    product = ProductFactory.build(category=CategoryFactory(), **{field: text})

    with pytest.raises(ValidationError) as error:
        product.full_clean()

    assert error.value.message_dict == {field: [CONTROL_MESSAGE]}


def test_full_clean_takes_line_breaks_and_tabs_in_a_description_only():
    category = CategoryFactory.build(name="Tea\tTime", description="Green.\r\n\tBlack.")

    with pytest.raises(ValidationError) as error:
        category.full_clean()

    assert error.value.message_dict == {"name": [CONTROL_MESSAGE]}


def test_a_product_and_its_category_are_saved_in_nfc():
    category = CategoryFactory(name="Cafe\u0301", description="Cre\u0300me")
    product = ProductFactory(
        sku="E\u0301-1",
        name="Cre\u0300me bru\u0302le\u0301e",
        description="Cafe\u0301",
        category=category,
    )

    category.refresh_from_db()
    product.refresh_from_db()
    assert (category.name, category.description) == ("Café", "Crème")
    assert (product.sku, product.name, product.description) == (
        "É-1",
        "Crème brûlée",
        "Café",
    )


def test_a_product_update_is_saved_in_nfc():
    product = ProductFactory()

    services.update_product(product=product, name="Zoe\u0308")

    assert Product.objects.get(pk=product.pk).name == "Zoë"


def test_saving_in_nfc_leaves_deferred_fields_unloaded(django_assert_num_queries):
    product = Product.objects.defer("description").get(pk=ProductFactory().pk)
    product.name = "Zoe\u0308"

    with django_assert_num_queries(1):
        product.save()

    # The search vector is deferred by the manager, for the database's use.
    assert product.get_deferred_fields() == {"description", "search_vector"}
    assert Product.objects.get(pk=product.pk).name == "Zoë"


def test_category_cannot_be_moved_under_its_own_subcategory():
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    grandchild = CategoryFactory(parent=child)
    root.parent = grandchild

    with pytest.raises(ValidationError) as error:
        root.full_clean()

    assert list(error.value.message_dict) == ["parent"]


def test_subtree_ids_holds_the_category_and_all_its_descendants():
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    grandchild = CategoryFactory(parent=child)
    CategoryFactory()  # elsewhere

    assert Category.objects.subtree_ids(root.pk) == {root.pk, child.pk, grandchild.pk}
    assert Category.objects.subtree_ids(child.pk) == {child.pk, grandchild.pk}


def test_active_product_counts_roll_up_the_tree_and_skip_inactive_products():
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    other = CategoryFactory()
    ProductFactory(category=root)
    ProductFactory.create_batch(2, category=child)
    ProductFactory(category=child, is_active=False)

    counts = Category.objects.active_product_counts()

    assert counts == {root.pk: 3, child.pk: 2, other.pk: 0}


def test_product_queryset_methods_select_by_state():
    category = CategoryFactory()
    active = ProductFactory(category=category, stock=3)
    inactive = ProductFactory(category=category, is_active=False)
    empty = ProductFactory(category=category, stock=0)
    plenty = ProductFactory(category=category, stock=50)

    assert set(Product.objects.active()) == {active, empty, plenty}
    assert set(Product.objects.in_stock()) == {active, inactive, plenty}
    assert set(Product.objects.out_of_stock()) == {empty}
    assert set(Product.objects.low_in_stock(5)) == {active}
    assert inactive not in Product.objects.active()
