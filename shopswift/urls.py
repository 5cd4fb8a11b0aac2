from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from catalog.views import HomeView
from core import health, metrics, views

# Swagger UI's page keeps a small inline stylesheet and its stylesheet draws
# icons from data: URLs; its script is a file of this origin (the split view
# serves the set-up script separately), so only styles and images are
# relaxed, and on this page alone.
docs_view = csp_override(
    {
        **settings.SECURE_CSP,
        "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
        "img-src": [CSP.SELF, "data:"],
    }
)(SpectacularSwaggerSplitView.as_view(url_name="schema"))

# The catalog first: its public reads are most of the API's requests, and
# each pattern before a match costs a regular expression.
api_v1 = [
    path("", include("catalog.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("pricing.api.urls")),
    path("", include("carts.api.urls")),
    path("", include("orders.api.urls")),
]

urlpatterns = [
    # The probes and the API first: Django tries the patterns in order, and
    # every page include below is tried in full before a later path matches.
    # No page path starts with these.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("", HomeView.as_view(), name="home"),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("carts.urls")),
    path("", include("orders.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs_view, name="docs"),
    # Any other /api/ path is a problem+json 404, in development mode too
    # (where Django would otherwise show its HTML debug page).
    re_path(r"^api/", views.api_not_found),
]

# Uploaded product images, in development mode only (static() is empty
# otherwise): production serves MEDIA_URL from the proxy or a storage service.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
