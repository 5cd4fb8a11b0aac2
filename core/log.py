"""The request id that ties every log line to the request that wrote it."""

import datetime
import json
import logging
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIDFilter(logging.Filter):
    """Stamp each record with the id of the request being served, or "-"."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


def tag_sentry_event(event, hint):
    """Tag an error report with the request id, to find its request's log lines."""
    request_id = request_id_var.get()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    return event


# The attributes every LogRecord has; any other attribute came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    {
        *logging.makeLogRecord({}).__dict__,
        "asctime",
        "message",
        "request_id",
        "taskName",
    }
)


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


class JSONFormatter(logging.Formatter):
    """One JSON object per line, made in one pass (production's log format).

    Keys: `level`, `logger`, `message`, `request_id`, `exc_info` and
    `stack_info` when present, every `extra=` field of the call, and `time`
    (ISO 8601 in UTC). Values JSON cannot hold are written as text (dates in
    ISO 8601). Written for the access log's one line per request.
    """

    def format(self, record):
        data = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exc_info"] = record.exc_text
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                data[key] = value
        data["time"] = datetime.datetime.fromtimestamp(
            record.created, datetime.UTC
        ).isoformat()
        return json.dumps(data, default=_json_default)
