import pytest

pytestmark = pytest.mark.django_db


def test_schema_documents_problem_responses(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "request_id",
    }


def test_docs_serve_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


def _operation(client, path, method):
    schema = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()
    return schema["paths"][path][method]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/products/", "get"),
        ("/api/v1/products/{slug}/", "get"),
        ("/api/v1/categories/", "get"),
        ("/api/v1/categories/{slug}/", "get"),
        # A guest's cart and checkout (its Cart-Token) and its order (its
        # Order-Token).
        ("/api/v1/cart/", "get"),
        ("/api/v1/cart/items/", "post"),
        ("/api/v1/orders/", "post"),
        ("/api/v1/orders/{id}/", "get"),
    ],
)
def test_operations_open_to_anonymous_callers_are_documented_so(client, path, method):
    operation = _operation(client, path, method)

    assert {} in operation["security"]
    assert {"jwtAuth": []} in operation["security"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/products/", "post"),
        ("/api/v1/products/{slug}/", "patch"),
        ("/api/v1/categories/{slug}/", "delete"),
        ("/api/v1/orders/", "get"),
        ("/api/v1/users/me/", "get"),
    ],
)
def test_operations_that_need_credentials_are_documented_so(client, path, method):
    operation = _operation(client, path, method)

    assert {} not in operation["security"]
    assert {"jwtAuth": []} in operation["security"]


@pytest.mark.parametrize("name", ["is_staff", "is_active"])
def test_true_false_filters_are_documented_as_the_strings_they_take(client, name):
    operation = _operation(client, "/api/v1/users/", "get")

    parameter = next(p for p in operation["parameters"] if p["name"] == name)

    assert parameter["schema"] == {"type": "string", "enum": ["false", "true"]}
    assert parameter["description"]
