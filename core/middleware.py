import logging
import os
import re
import time
from functools import partial

from django.conf import settings
from django.db import DataError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils.functional import LazyObject, SimpleLazyObject

from core import metrics
from core.api import DATABASE_RETRY_AFTER, database_error_problem
from core.log import request_id_var

access_logger = logging.getLogger("shopswift.access")

# An incoming id is trusted only if it is short and plain, so that a client
# cannot inject log syntax or megabytes through the header.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIDMiddleware:
    """Give every request an id: the caller's X-Request-ID, or a new one.

    The id is echoed in the response's X-Request-ID header, set on every log
    line written while the request is served, and quoted in API errors.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # META rather than request.headers, which would copy every header.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        if VALID_REQUEST_ID.fullmatch(incoming):
            request.request_id = incoming
        else:
            # 128 random bits as 32 hex digits, cheaper than uuid4().hex.
            request.request_id = os.urandom(16).hex()
        token = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class AccessLogMiddleware:
    """Log one line per request and record it in the request metrics.

    The line is an INFO record of the "shopswift.access" logger whose extra
    fields are user_id, method, path, status and duration_ms (JSON keys in
    production; the request id comes from RequestIDMiddleware, which must run
    first). The path is logged without its query string, which may carry
    personal data.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - start

        match = request.resolver_match
        if match is not None:
            view = match.view_name
        elif request.path.startswith(self.static_prefix):
            view = "<static>"
        else:
            view = "<unmatched>"
        metrics.record_request(view, request.method, response.status_code, seconds)

        duration_ms = round(seconds * 1000, 1)
        user_id = _known_user_id(request)
        access_logger.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            user_id,
            extra={
                "user_id": user_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


def _known_user_id(request):
    """The id of the user the request was served for, without a query of its own.

    A user set on the request (by DRF's authentication, login or logout) is
    read as it is; the authentication middleware's lazy user counts only
    once the request resolved it (ServedUserMiddleware). A static file or
    /healthz resolves none.
    """
    user = getattr(request, "user", None)
    if user is None:
        return None
    if isinstance(user, LazyObject):
        return getattr(request, "served_user_id", None)
    return user.pk if user.is_authenticated else None


class ServedUserMiddleware:
    """Note on the request which user request.user turned out to be, if it was read.

    Resolving the lazy user costs a query; the access log names the user
    only when the request paid for it anyway. Installed after the
    authentication middlewares, whose lazy user it wraps.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None:
            request.user = SimpleLazyObject(partial(note_served_user, request, user))
        return self.get_response(request)


def note_served_user(request, user):
    request.served_user_id = user.pk if user.is_authenticated else None
    return user


class DatabaseErrorMiddleware:
    """Answer database errors that are not bugs: 503 when away, 400 for bad values.

    The API's exception handler answers them inside DRF views with the same
    problem+json (core.api.database_error_problem); this covers every
    other view: pages get the HTML 503 page (templates/503.html, which needs
    no database) or the 400 page, other /api/ paths the problem+json.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (DataError, OperationalError)):
            return None
        if request.path.startswith("/api/"):
            return database_error_problem(request, exception)
        if isinstance(exception, DataError):
            from core.views import bad_request

            database_error_problem(request, exception)  # logs it
            return bad_request(request, exception)
        database_error_problem(request, exception)  # logs it
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
