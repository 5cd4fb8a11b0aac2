"""The public catalog reads come from Redis and are never stale.

Tests run inside a transaction that never commits, so each write is wrapped
in django_capture_on_commit_callbacks(execute=True): the cache is invalidated
on commit, as in production.
"""

import contextlib
import logging
import socket
from decimal import Decimal

import pytest
from django import forms
from django.core.cache import cache as default_cache
from django.http import QueryDict
from prometheus_client import REGISTRY

from accounts.tests.otp import log_in_to_the_admin
from catalog import cache, images, services
from catalog.filters import ProductFilter
from catalog.models import Category, Product, ProductImage
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    image_file,
    image_inline_form,
    variant_of,
)
from catalog.tests.test_admin import inline_forms

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


def product_url(product):
    return f"{PRODUCTS}{product.slug}/"


def public_view(client, product):
    """What the public sees of a product in its detail and in the list."""
    detail = client.get(product_url(product))
    listed = {p["id"]: p for p in client.get(PRODUCTS).json()["results"]}
    detail_body = detail.json() if detail.status_code == 200 else None
    return detail_body, listed.get(product.pk)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks at its end, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's, logged in with a code, as the admin wants of a superuser."""
    log_in_to_the_admin(client, admin_user)
    return client


# --- Served from the cache ----------------------------------------------------


def test_the_public_product_list_is_served_from_the_cache(
    api_client, django_assert_num_queries
):
    ProductFactory.create_batch(3)
    first = api_client.get(PRODUCTS)

    with django_assert_num_queries(0):
        second = api_client.get(PRODUCTS)

    assert second.status_code == 200
    assert second["Content-Type"] == "application/json"
    assert second.content == first.content
    assert second.json()["count"] == 3


def test_each_query_string_is_cached_apart(api_client):
    ProductFactory(sku="FULL", stock=2)
    ProductFactory(sku="EMPTY", stock=0)
    api_client.get(PRODUCTS)

    response = api_client.get(PRODUCTS, {"in_stock": "false"})

    assert [p["sku"] for p in response.json()["results"]] == ["EMPTY"]


def test_a_bad_filter_is_not_cached(api_client):
    api_client.get(PRODUCTS, {"in_stock": "maybe"})

    response = api_client.get(PRODUCTS, {"in_stock": "maybe"})

    assert response.status_code == 400


def test_staff_reads_bypass_the_cache(
    api_client, staff_client, django_assert_num_queries
):
    ProductFactory()
    api_client.get(PRODUCTS)

    # The token's user, whether a sale started or ended since the prices were
    # written, the count, the page, its pictures, variants and option types:
    # the database, not the cache.
    # (+2: the page's variants and their option types, prefetched)
    with django_assert_num_queries(7):
        response = staff_client.get(PRODUCTS)

    assert response.json()["count"] == 1


def test_invalidation_waits_for_the_commit(
    api_client, django_capture_on_commit_callbacks
):
    product = ProductFactory(price=Decimal("5.00"))
    api_client.get(product_url(product))

    with django_capture_on_commit_callbacks() as callbacks:
        Product.objects.filter(pk=product.pk).update(price=Decimal("6.00"))
        before_commit = api_client.get(product_url(product)).json()["price"]
    for callback in callbacks:
        callback()
    after_commit = api_client.get(product_url(product)).json()["price"]

    assert (before_commit, after_commit) == ("5.00", "6.00")


def redis_commands():
    """How many of each Redis command the cache has sent (the metrics' count)."""
    return {
        command: REGISTRY.get_sample_value(
            "shopswift_cache_command_duration_seconds_count", {"command": command}
        )
        or 0
        for command in ("GET", "MGET", "SET")
    }


def test_a_cached_read_is_one_redis_round_trip(api_client):
    ProductFactory()
    api_client.get(PRODUCTS)
    before = redis_commands()

    api_client.get(PRODUCTS)

    after = redis_commands()
    sent = {command: after[command] - before[command] for command in after}
    assert sent == {"GET": 0, "MGET": 1, "SET": 0}


def test_an_anonymous_miss_reads_the_cache_once_and_stores_once(api_client):
    product = ProductFactory()
    cache.read("version", ())  # made by the first read of all
    before = redis_commands()

    response = api_client.get(product_url(product))

    after = redis_commands()
    sent = {command: after[command] - before[command] for command in after}
    assert response.status_code == 200
    assert sent == {"GET": 0, "MGET": 1, "SET": 1}


def test_an_entry_of_an_earlier_version_is_not_served():
    # As a reader that raced a change leaves it: built from the old rows,
    # stored under the version it read before the change.
    key = cache.make_key("answer", ("question",))
    default_cache.set(key, ("an-earlier-version", "old answer"))

    assert cache.read("answer", ("question",)).value is None
    assert cache.cached("answer", ("question",), lambda: "new answer") == "new answer"
    assert cache.read("answer", ("question",)).value == "new answer"


def test_a_lost_version_key_starts_a_new_version_that_reuses_no_entry(api_client):
    product = ProductFactory(price=Decimal("5.00"))
    api_client.get(product_url(product))
    default_cache.delete(cache.VERSION_KEY)  # evicted by Redis
    Product.objects.filter(pk=product.pk).update(price=Decimal("6.00"))

    response = api_client.get(product_url(product))

    assert response.json()["price"] == "6.00"


# --- Fresh after every kind of change -----------------------------------------


def test_a_price_changed_through_the_api_shows_in_the_next_read(
    api_client, staff_client, committed
):
    product = ProductFactory(price=Decimal("5.00"))
    public_view(api_client, product)

    with committed():
        staff_client.patch(product_url(product), {"price": "7.50"}, format="json")

    detail, listed = public_view(api_client, product)
    assert (detail["price"], listed["price"]) == ("7.50", "7.50")


def test_stock_changed_through_the_api_shows_in_the_next_read(
    api_client, staff_client, committed
):
    product = ProductFactory(stock=5)
    public_view(api_client, product)

    with committed():
        staff_client.patch(product_url(product), {"stock": 0}, format="json")

    detail, listed = public_view(api_client, product)
    assert (detail["stock"], detail["in_stock"], listed["stock"]) == (0, False, 0)


def test_a_product_created_through_the_api_shows_in_the_next_read(
    api_client, staff_client, committed
):
    category = CategoryFactory()
    api_client.get(PRODUCTS)
    api_client.get(CATEGORIES)

    with committed():
        staff_client.post(
            PRODUCTS,
            {"sku": "NEW", "name": "New", "price": "1.00", "category": category.slug},
            format="json",
        )

    assert api_client.get(PRODUCTS).json()["count"] == 1
    assert api_client.get(CATEGORIES).json()["results"][0]["product_count"] == 1


def test_a_product_deleted_through_the_api_is_gone_in_the_next_read(
    api_client, staff_client, committed
):
    product = ProductFactory()
    public_view(api_client, product)

    with committed():
        staff_client.delete(product_url(product))

    assert public_view(api_client, product) == (None, None)


def test_a_category_renamed_through_the_api_shows_in_products_and_categories(
    api_client, staff_client, committed
):
    product = ProductFactory(category=CategoryFactory(name="Mugs"))
    public_view(api_client, product)
    api_client.get(CATEGORIES)

    with committed():
        staff_client.patch(
            f"{CATEGORIES}{product.category.slug}/", {"name": "Cups"}, format="json"
        )

    detail, listed = public_view(api_client, product)
    assert (detail["category"]["name"], listed["category"]["name"]) == ("Cups", "Cups")
    assert api_client.get(CATEGORIES).json()["results"][0]["name"] == "Cups"


def test_a_price_changed_in_the_admin_form_shows_in_the_next_read(
    api_client, admin_client, committed
):
    product = ProductFactory(price=Decimal("5.00"))
    public_view(api_client, product)
    form = {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "description": "",
        "price": "8.00",
        "is_active": "on",
        "stock_reason": "adjustment",
        **image_inline_form(),
        **inline_forms(product),
    }

    with committed():
        response = admin_client.post(
            f"/admin/catalog/product/{product.pk}/change/", form
        )

    assert response.status_code == 302
    detail, listed = public_view(api_client, product)
    assert (detail["price"], listed["price"]) == ("8.00", "8.00")


def test_pictures_added_removed_and_reordered_show_in_the_next_read(
    api_client, committed, media_root
):
    product = ProductFactory()
    public_view(api_client, product)

    with committed():
        first = images.add_image(product=product, image=image_file("a.png"))
        second = images.add_image(product=product, image=image_file("b.png"))
    detail, listed = public_view(api_client, product)
    assert [picture["url"] for picture in detail["images"]] == [
        f"http://testserver/media/{first.image.name}",
        f"http://testserver/media/{second.image.name}",
    ]
    assert listed["images"] == detail["images"]

    with committed():
        first.position = 2
        images.save_image(image=first)
    detail, listed = public_view(api_client, product)
    assert listed["image"] == f"http://testserver/media/{second.image.name}"

    with committed():
        images.remove_image(image=second)
    detail, listed = public_view(api_client, product)
    assert [picture["url"] for picture in listed["images"]] == [
        f"http://testserver/media/{first.image.name}"
    ]


def test_a_price_changed_in_the_admin_list_shows_in_the_next_read(
    api_client, admin_client, committed
):
    product = ProductFactory(price=Decimal("5.00"))
    public_view(api_client, product)
    form = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(product.pk),
        "form-0-price": "9.00",
        "form-0-is_active": "on",
        "_save": "Save",
    }

    with committed():
        response = admin_client.post("/admin/catalog/product/", form)

    assert response.status_code == 302
    detail, listed = public_view(api_client, product)
    assert (detail["price"], listed["price"]) == ("9.00", "9.00")


def test_a_bulk_deactivation_in_the_admin_shows_in_the_next_read(
    api_client, admin_client, committed
):
    product = ProductFactory()
    public_view(api_client, product)
    api_client.get(CATEGORIES)

    with committed():
        admin_client.post(
            "/admin/catalog/product/",
            {"action": "deactivate", "_selected_action": [product.pk]},
        )

    assert public_view(api_client, product) == (None, None)
    assert api_client.get(CATEGORIES).json()["results"][0]["product_count"] == 0


def test_a_queryset_update_in_a_service_shows_in_the_next_read(api_client, committed):
    product = ProductFactory(is_active=False)
    api_client.get(PRODUCTS)

    with committed():
        services.set_products_active(products=Product.objects.all(), is_active=True)

    detail, listed = public_view(api_client, product)
    assert (detail["is_active"], listed["is_active"]) == (True, True)


def test_stock_taken_by_an_order_shows_in_the_next_read(api_client, committed):
    product = ProductFactory(stock=3)
    public_view(api_client, product)

    with committed():
        services.take_stock(lines=[(variant_of(product).pk, 3)], reference="ORD-1")

    detail, listed = public_view(api_client, product)
    assert (detail["in_stock"], listed["stock"]) == (False, 0)


def test_stock_returned_by_a_cancellation_shows_in_the_next_read(api_client, committed):
    product = ProductFactory(stock=3)
    services.take_stock(lines=[(variant_of(product).pk, 3)])
    public_view(api_client, product)

    with committed():
        services.return_stock(lines=[(variant_of(product).pk, 2)], reference="ORD-1")

    detail, listed = public_view(api_client, product)
    assert (detail["stock"], listed["stock"]) == (2, 2)


def test_a_model_save_shows_in_the_next_read(api_client, committed):
    product = ProductFactory(name="Old name")
    public_view(api_client, product)

    with committed():
        product.name = "New name"
        product.save()

    detail, listed = public_view(api_client, product)
    assert (detail["name"], listed["name"]) == ("New name", "New name")


def test_a_category_deleted_shows_in_the_next_read(api_client, committed):
    category = CategoryFactory()
    api_client.get(CATEGORIES)

    with committed():
        Category.objects.filter(pk=category.pk).delete()

    assert api_client.get(CATEGORIES).json()["count"] == 0


# --- Redis unavailable --------------------------------------------------------


def unreachable_caches(caches):
    """The store's caches, the default one on a port where nothing listens.

    Every call to it fails at once. The port is new to the test, so that its
    circuit breaker starts closed.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    default = {**caches["default"], "LOCATION": f"redis://127.0.0.1:{port}/8"}
    return {**caches, "default": default}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = unreachable_caches(settings.CACHES)


@pytest.fixture
def outage(settings):
    """A block during which Redis cannot be reached; then the same Redis again."""

    @contextlib.contextmanager
    def unreachable():
        reachable = settings.CACHES
        settings.CACHES = unreachable_caches(reachable)
        try:
            yield
        finally:
            settings.CACHES = reachable

    return unreachable


@pytest.mark.usefixtures("redis_down")
def test_reads_fall_back_to_the_database_when_redis_is_down(api_client, caplog):
    product = ProductFactory()

    with caplog.at_level(logging.ERROR, logger="catalog.cache"):
        listed = api_client.get(PRODUCTS)
        detail = api_client.get(product_url(product))
        categories = api_client.get(CATEGORIES)

    assert (listed.status_code, detail.status_code, categories.status_code) == (
        200,
        200,
        200,
    )
    assert listed.json()["count"] == 1
    assert "Catalog cache unavailable" in caplog.text


@pytest.mark.usefixtures("redis_down")
def test_staff_writes_work_when_redis_is_down(staff_client, committed):
    product = ProductFactory(price=Decimal("5.00"))

    with committed():
        response = staff_client.patch(
            product_url(product), {"price": "6.00"}, format="json"
        )

    assert response.status_code == 200
    assert response.json()["price"] == "6.00"


def test_a_bump_that_could_not_reach_redis_is_made_before_the_next_read(outage):
    cache.cached("answer", ("question",), lambda: "answer before the change")
    with outage():
        cache.bump()  # the change's bump, while Redis is unreachable

    found = cache.read("answer", ("question",))

    assert found.value is None
    assert cache.fill(found, lambda: "new answer") == "new answer"


def test_after_redis_was_unreachable_the_next_read_starts_a_new_version(outage):
    # Another process may have missed a bump meanwhile: this one cannot know.
    cache.cached("answer", ("question",), lambda: "answer before the outage")
    with outage():
        during = cache.read("answer", ("question",))

    after = cache.read("answer", ("question",))

    assert (during.version, during.value) == (None, None)
    assert after.value is None
    assert after.version is not None


def test_after_an_outage_the_version_is_replaced_once(outage):
    with outage():
        cache.read("answer", ("question",))
    cache.cached("answer", ("question",), lambda: "answer after the outage")

    found = cache.read("answer", ("question",))

    assert found.value == "answer after the outage"


# --- Keys: the parameters an answer depends on ------------------------------------


def test_every_product_filter_reads_the_one_parameter_of_its_name():
    # The public list's key holds the declared filters' names (see
    # catalog/api/views.py); a filter reading more (a range's `_min` and
    # `_max`) would let two different lists share an entry.
    form = ProductFilter(QueryDict()).form

    widgets = {name: form.fields[name].widget for name in ProductFilter.base_filters}

    assert not [
        name
        for name, widget in widgets.items()
        if isinstance(widget, forms.MultiWidget)
    ]
    for name, widget in widgets.items():
        assert widget.value_from_datadict(QueryDict(f"{name}=x"), {}, name) in (
            "x",
            ["x"],  # a comma-separated list (ordering)
        )


def test_the_links_of_a_list_name_its_own_parameters_only_in_one_order(api_client):
    ProductFactory.create_batch(3, stock=4)
    query = "utm_source=mail&page_size=500&in_stock=true&page=2&page_size=1"

    listed = api_client.get(f"{PRODUCTS}?{query}").json()

    assert (listed["previous"], listed["next"]) == (
        "http://testserver/api/v1/products/?in_stock=true&page_size=1",
        "http://testserver/api/v1/products/?in_stock=true&page=3&page_size=1",
    )


def test_a_format_is_part_of_the_key(api_client):
    ProductFactory()
    as_json = api_client.get(PRODUCTS, {"format": "json"})

    unknown = api_client.get(PRODUCTS, {"format": "xml"})

    assert as_json.status_code == 200
    assert unknown.status_code == 404


# --- Query budgets ------------------------------------------------------------


def pictured(product):
    """The product with two pictures (their names alone: no file is read)."""
    for position in range(2):
        ProductImage.objects.create(
            product=product, image=f"products/{product.sku}-{position}.png"
        )
    return product


@pytest.mark.parametrize("page_size", [5, 30])
def test_product_list_costs_six_queries_whatever_the_page_size(
    api_client, django_assert_num_queries, page_size
):
    for category in CategoryFactory.create_batch(3):
        for product in ProductFactory.create_batch(10, category=category):
            pictured(product)

    # whether a sale started or ended since the prices were written, count,
    # page (with categories), its pictures, variants and option types
    # (+2: the page's variants and their option types, prefetched)
    with django_assert_num_queries(6):
        uncached = api_client.get(PRODUCTS, {"page_size": page_size})
    with django_assert_num_queries(0):
        cached = api_client.get(PRODUCTS, {"page_size": page_size})

    assert len(uncached.json()["results"]) == page_size
    assert cached.content == uncached.content


@pytest.mark.parametrize("page_size", [5, 30])
def test_staff_product_list_costs_seven_queries_whatever_the_page_size(
    staff_client, django_assert_num_queries, page_size
):
    for product in ProductFactory.create_batch(30):
        pictured(product)

    # The token's user, whether a sale started or ended, the count, the page,
    # its pictures, variants and option types.
    # (+2: the page's variants and their option types, prefetched)
    with django_assert_num_queries(7):
        response = staff_client.get(PRODUCTS, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_filtered_product_list_costs_nine_queries(
    api_client, django_assert_num_queries
):
    root = CategoryFactory(name="Root")
    for child in CategoryFactory.create_batch(3, parent=root):
        ProductFactory.create_batch(5, category=child)

    # the category tree (then cached, see test_filters.py), whether the
    # search finds any product (else its typos are corrected), whether a sale
    # started or ended, count, the page's ids (of the products holding the
    # one word in their names: all 15), its rows, their pictures, variants
    # and option types
    with django_assert_num_queries(9):
        response = api_client.get(PRODUCTS, {"category": "root", "search": "product"})

    assert response.json()["count"] == 15


def test_product_detail_costs_three_queries_then_none(
    api_client, django_assert_num_queries
):
    product = pictured(ProductFactory())

    # Whether a sale started or ended, the product, its pictures, variants
    # and option types.
    with django_assert_num_queries(5):
        uncached = api_client.get(product_url(product))
    with django_assert_num_queries(0):
        cached = api_client.get(product_url(product))

    assert cached.content == uncached.content


@pytest.mark.parametrize("categories", [2, 12])
def test_category_list_costs_three_queries_whatever_its_length(
    api_client, django_assert_num_queries, categories
):
    root = CategoryFactory(name="All")  # listed first, by name
    for category in CategoryFactory.create_batch(categories - 1, parent=root):
        ProductFactory(category=category)

    # count, page (with parents), product counts of the whole tree
    with django_assert_num_queries(3):
        uncached = api_client.get(CATEGORIES)
    with django_assert_num_queries(0):
        cached = api_client.get(CATEGORIES)

    assert len(uncached.json()["results"]) == categories
    assert uncached.json()["results"][0]["product_count"] == categories - 1
    assert cached.content == uncached.content


def test_category_detail_costs_two_queries_then_none(
    api_client, django_assert_num_queries
):
    category = CategoryFactory()

    with django_assert_num_queries(2):
        uncached = api_client.get(f"{CATEGORIES}{category.slug}/")
    with django_assert_num_queries(0):
        cached = api_client.get(f"{CATEGORIES}{category.slug}/")

    assert cached.content == uncached.content
