"""The request id that ties every log line to the request that wrote it."""

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
