"""The framework's floor: one Django view, no middleware, no apps, no database.

The benchmark serves it with gunicorn exactly as it serves the store, and
compares the store's /healthz (the same JSON through the whole middleware
stack) against it: `gunicorn -c deploy/gunicorn.conf.py bench.bare:application`.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-app-serves-one-constant-and-signs-nothing",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
)


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("healthz", healthz)]
application = get_wsgi_application()
