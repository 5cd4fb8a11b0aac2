"""Catalog pages for visitors without a session: cached HTML, their own CSRF token.

Tests run inside a transaction that never commits, so each write is wrapped
in django_capture_on_commit_callbacks(execute=True): the cache is invalidated
on commit, as in production.
"""

import re
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory

from accounts.tests.factories import UserFactory
from catalog import cache, services
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def pan():
    return ProductFactory(
        name="Pan", slug="pan", price=Decimal("10.00"), category=CategoryFactory()
    )


def form_token(response):
    return TOKEN.search(response.content.decode()).group(1)


def test_a_cached_product_page_costs_no_query_and_reads_the_same(
    client, pan, django_assert_num_queries
):
    first = Client().get("/products/pan/")

    with django_assert_num_queries(0):
        second = client.get("/products/pan/")

    assert TOKEN.sub("", second.content.decode()) == TOKEN.sub(
        "", first.content.decode()
    )
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert "Cookie" in second["Vary"]


def test_each_visitor_gets_a_token_of_their_own_cookie_from_the_cached_page(pan):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    tokens = [form_token(visitor.get("/products/pan/")) for visitor in (first, second)]

    answers = [
        visitor.post("/accounts/login/", {"csrfmiddlewaretoken": token}).status_code
        for visitor, token in [
            (first, tokens[0]),
            (second, tokens[1]),
            (first, tokens[1]),
        ]
    ]

    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert answers == [200, 200, 403]  # the login form again, or refused


def test_a_visitor_s_token_from_the_cached_page_passes_the_csrf_check(pan):
    Client().get("/products/pan/")  # caches the page
    visitor = Client(enforce_csrf_checks=True)
    token = form_token(visitor.get("/products/pan/"))

    refused = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"csrfmiddlewaretoken": token}
    )
    accepted = visitor.post("/accounts/login/", {"csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 200  # the form, re-rendered with its errors


def test_a_change_shows_on_the_next_cached_page(
    client, pan, django_capture_on_commit_callbacks
):
    client.get("/products/pan/")
    with django_capture_on_commit_callbacks(execute=True):
        services.update_product(product=pan, price=Decimal("12.50"))

    response = client.get("/products/pan/")

    assert "12.50" in response.content.decode()


def test_a_logged_in_visitor_gets_their_own_header_not_the_cached_page(client, pan):
    Client().get("/products/pan/")  # caches the anonymous page
    client.force_login(UserFactory())

    response = client.get("/products/pan/")

    assert "Log out" in response.content.decode()
    assert "Log in" not in response.content.decode()


def test_a_visitor_with_a_message_waiting_sees_it(client, pan):
    Client().get("/products/pan/")  # caches the page without messages
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, "Welcome back.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies[CookieStorage.cookie_name] = carrier.cookies[
        CookieStorage.cookie_name
    ].value

    page = client.get("/products/pan/")

    assert "Welcome back." in page.content.decode()


def test_a_query_the_page_does_not_read_shares_the_page_s_own_entry(client, pan):
    known = client.get("/products/", {"search": "pan"})
    unknown = client.get("/products/", {"search": "pan", "utm_source": "mail"})

    assert known.status_code == unknown.status_code == 200
    assert unknown.content == known.content
    assert cache.read("pages:html", ("http://testserver/products/?search=pan",)).value
    assert (
        cache.read(
            "pages:html",
            ("http://testserver/products/?search=pan&utm_source=mail",),
        ).value
        is None
    )


def test_a_missing_product_is_404_and_not_cached(client):
    assert client.get("/products/nothing/").status_code == 404
    assert client.get("/products/nothing/").status_code == 404
