"""Test helpers that every app's tests share."""

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from drf_spectacular.generators import SchemaGenerator
from whitenoise.middleware import WhiteNoiseMiddleware

from core.testing_servers import redis_database_url

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ScanOnceWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise that reads each static folder once per test run.

    Django's test client loads the middleware anew for each client, and
    WhiteNoise reads the headers of every collected file when it is made
    (about 40 ms, most of a client's start); the collected files do not
    change during a run. Only the test settings name this class.
    """

    scanned: ClassVar[dict[tuple[object, ...], dict[str, object]]] = {}
    files: dict[str, object]

    def update_files_dictionary(self, root, prefix):
        # What a file's answer holds comes from these and the files.
        key = (root, prefix, self.max_age, self.allow_all_origins, self.charset)
        if key not in self.scanned:
            kept = self.files
            self.files = {}
            super().update_files_dictionary(root, prefix)
            self.scanned[key] = self.files
            self.files = kept
        self.files.update(self.scanned[key])


def assert_problem(response, status, code):
    """Assert a contract problem+json error and return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


@contextlib.contextmanager
def rows_kept_for_a_class(django_db_blocker) -> Iterator[None]:
    """Keep the rows made inside for the tests of a class, then roll them back.

    As Django's `setUpTestData`: one transaction around the class, each
    test's own a savepoint inside it. For rows the tests only read, built
    once rather than per test. A class-scoped fixture uses it (needs
    `django_db_setup` and `django_db_blocker`).
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def race(
    workers: Sequence[Callable[[], object]], *, timeout: float = 60
) -> list[object]:
    """Run each callable in its own thread, all starting together.

    Returns each callable's result, or the exception it raised, in order.
    Each thread closes its own database connection when done.
    """
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, work))
        for index, work in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def current_database_url(name=None):
    """The URL of the database this test run made, for the servers it starts.

    With `name`, of that database on the same server instead. The host may
    be a socket folder (the embedded PostgreSQL), written percent-encoded as
    dj-database-url and libpq read it.
    """
    database = connection.settings_dict
    password = (
        f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
    )
    host = quote(database["HOST"] or "127.0.0.1", safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    name = name or database["NAME"]
    return f"postgres://{database['USER']}{password}@{host}{port}/{name}"


def redis_url(db):
    """The test run's Redis server (settings.REDIS_URL) with another database number."""
    return redis_database_url(settings.REDIS_URL, db)


@functools.cache
def schema_components():
    """The components of the API's OpenAPI schema, as drf-spectacular makes it."""
    return SchemaGenerator().get_schema(request=None, public=True)["components"][
        "schemas"
    ]


def assert_answer_matches(answer, expected, component):
    """Assert that a written-out answer is the serializer's, field by field.

    Walks the schema's `component`: at each object, the answer and the
    serializer's `expected` data have exactly the documented fields, in one
    order, and each field is equal, nested objects and lists alike.
    """
    _assert_same(answer, expected, {"$ref": f"#/components/schemas/{component}"}, "")


def _resolve(schema):
    while True:
        if "$ref" in schema:
            schema = schema_components()[schema["$ref"].rsplit("/", 1)[1]]
        elif len(schema.get("allOf", ())) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def _assert_same(answer, expected, schema, path):
    schema = _resolve(schema)
    if "properties" in schema and answer is not None:
        documented = list(schema["properties"])
        assert sorted(answer) == sorted(documented), path
        assert list(answer) == list(expected), path
        for name in documented:
            field = f"{path}.{name}" if path else name
            _assert_same(
                answer[name], expected[name], schema["properties"][name], field
            )
    elif schema.get("type") == "array" and answer is not None:
        assert len(answer) == len(expected), path
        for index, (item, expected_item) in enumerate(
            zip(answer, expected, strict=True)
        ):
            _assert_same(item, expected_item, schema["items"], f"{path}[{index}]")
    else:
        assert answer == expected, path


def migrate(targets):
    """Migrate the test database to `targets`; return the apps as they leave it."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
