"""URL map: admin, API v1 (each app's routes), OpenAPI, aggregator protocols, health and
Prometheus metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz

api_v1 = [
    path("", include("players.urls")),
    path("", include("wallet.urls")),
    path("", include("rewards.urls")),
    path("", include("safety.urls")),
    path("", include("importer.urls")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[]),
        name="api-docs",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Game aggregators' wallet protocols (docs/aggregator.md), each under its own prefix.
    path("api/aggregators/valkyrie/", include("wallet.aggregator.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("django_prometheus.urls")),
]

handler404 = "config.api.errors.api_not_found"
handler500 = "config.api.errors.api_server_error"
