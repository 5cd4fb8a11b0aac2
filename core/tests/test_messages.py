"""DeferredStorage: Django's messages, with the storage made only when used."""

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse

pytestmark = pytest.mark.django_db


def serve(request, view):
    """Run a view behind the session and message middleware, as settings order them."""
    return SessionMiddleware(MessageMiddleware(view))(request)


def add_message(request):
    messages.success(request, "Added to your cart.")
    return HttpResponse("added")


def list_messages(request):
    return HttpResponse(" | ".join(str(m) for m in messages.get_messages(request)))


def no_messages(request):
    return HttpResponse("nothing to say")


def test_a_message_added_in_one_request_is_shown_in_the_next_and_then_gone(rf):
    first = rf.get("/")
    added = serve(first, add_message)
    second = rf.get("/")
    second.COOKIES = {name: morsel.value for name, morsel in added.cookies.items()}

    shown = serve(second, list_messages)
    third = rf.get("/")
    third.COOKIES = {name: morsel.value for name, morsel in shown.cookies.items()}
    again = serve(third, list_messages)

    assert shown.content == b"Added to your cart."
    assert again.content == b""


def test_a_request_that_never_uses_messages_makes_no_storage_and_no_cookie(rf):
    request = rf.get("/")

    response = serve(request, no_messages)

    assert messages.get_messages(request).made is None
    assert "messages" not in response.cookies


def test_the_storage_is_django_s_own_once_used(rf):
    request = rf.get("/")

    serve(request, add_message)

    assert isinstance(messages.get_messages(request).made, FallbackStorage)


def test_the_level_and_used_flag_reach_django_s_storage(rf):
    request = rf.get("/")

    def keep_messages(request):
        messages.set_level(request, messages.WARNING)
        messages.info(request, "Below the level.")
        messages.warning(request, "Kept.")
        storage = messages.get_messages(request)
        shown = [str(message) for message in storage]
        storage.used = False
        return HttpResponse(" | ".join(shown))

    response = serve(request, keep_messages)

    assert response.content == b"Kept."
    assert messages.get_level(request) == messages.WARNING
    assert "messages" in response.cookies
