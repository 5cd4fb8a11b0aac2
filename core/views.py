"""Error pages: problem+json under /api/, the site's HTML pages elsewhere."""

from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt

from core.api import SERVER_ERROR_DETAIL, problem_response


def _is_api(request):
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return problem_response(request, 400, "parse_error", "Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return problem_response(
            request,
            403,
            "permission_denied",
            "You do not have permission to perform this action.",
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


# Exempt: an unknown API path changes nothing, and a POST to it must be the
# contract's 404, not the CSRF middleware's HTML 403.
@csrf_exempt
def api_not_found(request):
    return problem_response(request, 404, "not_found", "Not found.")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: problem+json under /api/, Django's page elsewhere."""
    if _is_api(request):
        return problem_response(
            request,
            403,
            "permission_denied",
            "CSRF verification failed: send a JWT bearer token, or the CSRF "
            "token with a session.",
        )
    return csrf.csrf_failure(request, reason=reason)


def server_error(request):
    if _is_api(request):
        return problem_response(request, 500, "server_error", SERVER_ERROR_DETAIL)
    return defaults.server_error(request)
