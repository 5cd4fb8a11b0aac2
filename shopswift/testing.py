"""Test helpers that every app's tests share."""

import threading

from django.db import connection

PROBLEM_CONTENT_TYPE = "application/problem+json"


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


def race(workers, *, timeout=60):
    """Run each callable in its own thread, all starting together.

    Returns each callable's result, or the exception it raised, in order.
    Each thread closes its own database connection when done.
    """
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(index, work):
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
