"""Liveness and readiness probes for load balancers and orchestrators."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from core.api import problem_response

logger = logging.getLogger(__name__)


def healthz(request):
    """The process is alive and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache():
    # A round trip with a fresh value: a cache that swallows errors and
    # answers None is caught too.
    key = f"readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("value written was not read back")
    cache.delete(key)


def readyz(request):
    """The database and the cache answer; 503 names each part that does not."""
    checks = {}
    for name, check in (("database", _check_database), ("cache", _check_cache)):
        try:
            check()
        except Exception as error:
            logger.error("Readiness check %s failed: %s", name, error)
            checks[name] = "failing"
        else:
            checks[name] = "ok"
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        return problem_response(
            request,
            503,
            "service_unavailable",
            f"Not ready: {', '.join(failing)} not answering.",
            extra={"checks": checks},
        )
    return JsonResponse({"status": "ok", "checks": checks})
