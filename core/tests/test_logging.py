"""The access log: one line per request, JSON in production, readable in development."""

import copy
import datetime
import json
import logging
import logging.config
import re
import sys
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from core.log import RequestIDFilter

pytestmark = [pytest.mark.django_db, pytest.mark.urls("core.tests.urls")]


@pytest.fixture
def access_lines(caplog):
    """The access log records written during the test, stamped with request ids."""
    caplog.handler.addFilter(RequestIDFilter())
    caplog.set_level(logging.INFO, logger="shopswift.access")

    def lines():
        return [r for r in caplog.records if r.name == "shopswift.access"]

    return lines


def format_with(settings, formatter_name, record):
    # The configurator consumes the dict it is given: work on a copy.
    config = copy.deepcopy(settings.LOGGING)
    configurator = logging.config.DictConfigurator(config)
    formatter = configurator.configure_formatter(config["formatters"][formatter_name])
    return formatter.format(record)


def test_each_request_writes_one_access_line(client, access_lines):
    client.get("/healthz?probe=lb", HTTP_X_REQUEST_ID="trace-7")

    [line] = access_lines()
    assert line.levelname == "INFO"
    assert line.request_id == "trace-7"
    assert line.method == "GET"
    assert line.path == "/healthz"  # without the query string
    assert line.status == 200
    assert line.user_id is None
    assert 0 <= line.duration_ms < 5000


def test_production_access_lines_are_json_with_request_id_and_fields(
    client, settings, access_lines
):
    client.post("/api/v1/test/echo/", {}, HTTP_X_REQUEST_ID="trace-8")

    line = json.loads(format_with(settings, "json", access_lines()[0]))

    assert line.pop("time").endswith("+00:00")
    duration_ms = line.pop("duration_ms")
    assert isinstance(duration_ms, float)
    assert line == {
        "level": "INFO",
        "logger": "shopswift.access",
        "message": f"POST /api/v1/test/echo/ 415 {duration_ms:.1f}ms user=None",
        "request_id": "trace-8",
        "user_id": None,
        "method": "POST",
        "path": "/api/v1/test/echo/",
        "status": 415,
    }


def test_development_access_lines_are_readable(client, settings, access_lines):
    client.get("/healthz", HTTP_X_REQUEST_ID="trace-9")

    text = format_with(settings, "readable", access_lines()[0])

    assert re.fullmatch(
        r"\S+ \S+ INFO    \[trace-9\] shopswift\.access: "
        r"GET /healthz 200 \d+\.\dms user=None",
        text,
    )


def test_the_access_line_names_the_api_user(api_client, access_lines):
    user = UserFactory()
    api_client.force_authenticate(user)

    api_client.get("/api/v1/test/authenticated-only/")

    assert access_lines()[0].user_id == user.pk


def test_the_access_line_names_the_user_of_a_session(client, access_lines):
    user = UserFactory(is_staff=True)
    client.force_login(user)

    client.get("/admin/")

    assert access_lines()[0].user_id == user.pk


def test_the_access_line_costs_no_query_when_the_request_never_needed_the_user(
    client, access_lines, django_assert_num_queries
):
    client.force_login(UserFactory())

    with django_assert_num_queries(0):
        client.get("/healthz")

    assert access_lines()[0].user_id is None


def test_the_access_line_names_no_user_the_request_never_resolved(
    client, access_lines, django_assert_num_queries
):
    client.force_login(UserFactory())

    with django_assert_num_queries(1):  # the session, not the user
        client.get("/test/session-only/")

    assert access_lines()[0].user_id is None


def test_a_failing_request_is_logged_with_status_500(client, access_lines):
    client.raise_request_exception = False

    client.get("/test/page-failure/")

    assert access_lines()[-1].status == 500


def test_production_error_lines_carry_the_traceback(settings):
    logger = logging.getLogger("shopswift.tests")
    try:
        raise ValueError("card number rejected")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "Payment failed",
            (),
            sys.exc_info(),
        )

    line = json.loads(format_with(settings, "json", record))

    assert line["level"] == "ERROR"
    assert line["message"] == "Payment failed"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert line["exc_info"].endswith("ValueError: card number rejected")


def test_production_lines_write_values_json_cannot_hold_as_text(settings):
    record = logging.makeLogRecord(
        {
            "name": "shopswift.tests",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "Order placed",
            "at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "total": Decimal("19.99"),
        }
    )

    line = json.loads(format_with(settings, "json", record))

    assert line["at"] == "2026-01-02T03:04:05+00:00"
    assert line["total"] == "19.99"
    assert line["request_id"] is None
