"""Assertions that every app's API tests share."""

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
