import re
import uuid

from shopswift.log import request_id_var

# An incoming id is trusted only if it is short and plain, so that a client
# cannot inject log syntax or megabytes through the header.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIDMiddleware:
    """Give every request an id: the caller's X-Request-ID, or a new one.

    The id is echoed in the response's X-Request-ID header, set on every log
    line written while the request is served, and quoted in API errors.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        if VALID_REQUEST_ID.fullmatch(incoming):
            request.request_id = incoming
        else:
            request.request_id = uuid.uuid4().hex
        token = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
