"""The API's conventions: problem+json errors and pagination."""

import logging
from datetime import datetime
from decimal import Decimal
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, pagination
from rest_framework.views import set_rollback

from core.exceptions import ShopError
from core.money import CENT

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
SERVER_ERROR_DETAIL = (
    "Something went wrong on our side. Quote the request_id if you contact us."
)
DATABASE_UNAVAILABLE_DETAIL = (
    "The store cannot reach its database just now. Please try again in a moment."
)
# Seconds a client should wait before retrying while the database is away.
DATABASE_RETRY_AFTER = 5


# --- Errors as RFC 9457 problem details ---------------------------------------


def problem_response(request, status, code, detail, *, errors=None, extra=None):
    """Build the contract's problem+json response."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail),
        "code": code,
        "request_id": getattr(request, "request_id", ""),
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def flatten_errors(detail, prefix=""):
    """Turn DRF's nested error detail into {"field.sub": [messages]}."""
    if isinstance(detail, dict):
        errors = {}
        for key, value in detail.items():
            errors.update(flatten_errors(value, f"{prefix}{key}."))
        return errors
    if isinstance(detail, list) and any(isinstance(i, (dict, list)) for i in detail):
        errors = {}
        for index, value in enumerate(detail):
            errors.update(flatten_errors(value, f"{prefix}{index}."))
        return errors
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix.rstrip(".") or "non_field_errors": [str(m) for m in messages]}


def database_error_problem(request, error):
    """The problem+json answer to a database error that is not a bug, else None.

    - DataError: the database refused a value that came with the request
      (a NUL character in a text, a number out of range) before any row
      changed: the client's input, so 400 `validation_error`.
    - OperationalError: the database is unreachable or cut the statement
      short (connection refused or lost, statement or lock timeout): 503
      `service_unavailable` with Retry-After, never a traceback. Django
      drops a broken connection when the request ends, so service resumes
      by itself once the database answers again.
    """
    if isinstance(error, DataError):
        logger.warning("The database refused a value of the request: %s", error)
        return problem_response(
            request,
            400,
            "validation_error",
            "The request has a value the store cannot record (such as a NUL "
            "character or a number out of range).",
        )
    if isinstance(error, OperationalError):
        logger.error("Database unavailable: %s", error)
        response = problem_response(
            request, 503, "service_unavailable", DATABASE_UNAVAILABLE_DETAIL
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    return None


def _api_exception_problem(exc):
    """Return (code, detail, errors) for one of DRF's exceptions."""
    if isinstance(exc, exceptions.ValidationError):
        return (
            "validation_error",
            "The request has invalid fields.",
            flatten_errors(exc.detail),
        )
    if isinstance(exc, exceptions.NotAuthenticated):
        code = "not_authenticated"
    elif isinstance(exc, exceptions.AuthenticationFailed):
        # simplejwt's InvalidToken included: expired, tampered, blacklisted.
        code = "authentication_failed"
    else:
        code = exc.default_code
    if exc.status_code == 403:
        # DRF answers 403 for missing credentials when no authenticator can
        # ask for them; the code must match the status.
        code = "permission_denied"
    detail = exc.detail
    if isinstance(detail, dict):
        detail = detail.get("detail", exc.default_detail)
    elif isinstance(detail, list):
        detail = " ".join(str(item) for item in detail)
    return code, detail, None


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every API error becomes problem+json."""
    request = context["request"]
    set_rollback()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, Ratelimited):
        # Before PermissionDenied, which django-ratelimit's exception
        # subclasses. accounts.limits's RateLimitExceeded carries the
        # seconds until its window ends, which become Retry-After.
        exc = exceptions.Throttled(
            wait=getattr(exc, "retry_after", None), detail=str(exc) or None
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ShopError):
        return problem_response(
            request,
            exc.status,
            exc.code,
            exc.detail,
            errors=exc.errors,
            extra=exc.extra,
        )
    if isinstance(exc, RequestDataTooBig):
        # Past DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read the body.
        return problem_response(
            request,
            413,
            "request_too_large",
            f"The request body is larger than the "
            f"{filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)} the store "
            "accepts.",
        )
    if isinstance(exc, SuspiciousOperation):
        # Too many fields or files, a malformed multipart body: unreadable.
        return problem_response(
            request, 400, "parse_error", "The request body could not be read."
        )
    if isinstance(exc, (ProtectedError, RestrictedError)):
        # on_delete=PROTECT is how the models say "still in use".
        return problem_response(
            request,
            409,
            "conflict",
            "This cannot be deleted while other records still refer to it.",
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {field: list(msgs) for field, msgs in exc.message_dict.items()}
        else:
            errors = {"non_field_errors": list(exc.messages)}
        return problem_response(
            request,
            400,
            "validation_error",
            "The request has invalid fields.",
            errors=errors,
        )
    if isinstance(exc, exceptions.APIException):
        code, detail, errors = _api_exception_problem(exc)
        response = problem_response(
            request, exc.status_code, code, detail, errors=errors
        )
        # Where given: a 401's challenge (set by DRF's view), Throttled's wait.
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait:
            response["Retry-After"] = str(int(wait))
        return response

    database_problem = database_error_problem(request, exc)
    if database_problem is not None:
        return database_problem

    logger.exception("Unhandled error in API view %s", context["view"])
    return problem_response(request, 500, "server_error", SERVER_ERROR_DETAIL)


# --- Values in answers written out by hand -----------------------------------
# The hot reads (a product, a cart, an order) build their JSON without DRF's
# serializer fields; these write values exactly as those fields do.


def money(value: Decimal) -> str:
    """An amount as DRF's DecimalField writes it: a string with two places."""
    return f"{value.quantize(CENT):f}"


def iso_datetime(value: datetime) -> str:
    """A datetime as DRF's DateTimeField writes it: ISO 8601, UTC as Z."""
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- Pagination ------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M` (default 20, at most 100); past the end is 404.

    A page or page size that is not a positive whole number is a 400 naming
    the parameter, rather than silently falling back to a default.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return min(self._positive_int("page_size", raw), self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "1")
        return self._positive_int("page", raw)

    @staticmethod
    def _positive_int(name, raw):
        if raw.isascii() and raw.isdigit() and int(raw) >= 1:
            return int(raw)
        raise exceptions.ValidationError({name: ["Enter a positive whole number."]})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


# --- OpenAPI: the problem+json responses -------------------------------------------

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Not Found"},
        "status": {"type": "integer", "example": 404},
        "detail": {"type": "string", "example": "Not found."},
        "code": {"type": "string", "example": "not_found"},
        "request_id": {"type": "string", "example": "6f1c0e0b5a8e4a53"},
        "errors": {
            "type": "object",
            "description": "Only for validation errors: messages per field.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
}

# Statuses that any operation may answer, whatever it does.
COMMON_PROBLEM_STATUSES = {
    "400": "Invalid input (`validation_error`, `parse_error`).",
    "401": "No or bad credentials (`not_authenticated`, `authentication_failed`).",
    "403": "Not allowed (`permission_denied`).",
    "404": "Not found (`not_found`).",
    "405": "Method not allowed (`method_not_allowed`).",
    "406": "No acceptable response type (`not_acceptable`).",
    "413": "The request body is above the size limit (`request_too_large`).",
    "415": "Unsupported request content type (`unsupported_media_type`).",
    "429": "Rate limited (`throttled`); see `Retry-After`.",
    "500": "Server error (`server_error`).",
    "503": "The database is unreachable or timed out (`service_unavailable`); "
    "retry after `Retry-After` seconds.",
}


def document_problem_responses(result, generator, request, public):
    """drf-spectacular hook: every error response is documented as problem+json.

    Views declare their specific error statuses (402, 409) by description
    only; this hook gives those and the common ones the Problem schema.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
        PROBLEM_SCHEMA
    )
    problem_content = {
        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_PROBLEM_STATUSES.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = problem_content
    return result
