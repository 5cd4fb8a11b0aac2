"""Error pages: problem+json under /api/, the site's HTML pages elsewhere."""

from django.views import defaults

from shopswift.api import SERVER_ERROR_DETAIL, problem_response


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


def api_not_found(request):
    return problem_response(request, 404, "not_found", "Not found.")


def server_error(request):
    if _is_api(request):
        return problem_response(request, 500, "server_error", SERVER_ERROR_DETAIL)
    return defaults.server_error(request)
