"""URL map: admin, API v1 (each app's routes), OpenAPI, aggregator protocols, health and
Prometheus metrics."""

from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from config.api.exports import ExportView
from config.health import healthz, readyz
from config.internal import metrics
from players.identifiers import PlayerIdConverter

# The schema and docs: for an authenticated user (an API token, or a staff session in a browser).
DOCS_PERMISSIONS = [IsAuthenticated]

# `players/<player_id:external_id>/…`: exactly the identifier rule (players/identifiers.py).
register_converter(PlayerIdConverter, "player_id")

api_v1 = [
    path("", include("players.urls")),
    path("", include("wallet.urls")),
    path("", include("rewards.urls")),
    path("", include("safety.urls")),
    path("", include("importer.urls")),
    path("", include("webhooks.urls")),
    path("exports/<str:kind>/", ExportView.as_view(), name="exports"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=DOCS_PERMISSIONS), name="schema"),
    path(
        "docs/",
        # the split view serves its script from a URL of its own: no inline script (CSP)
        SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=DOCS_PERMISSIONS),
        name="api-docs",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Game aggregators' wallet protocols (docs/aggregator.md), each under its own prefix.
    path("api/aggregators/valkyrie/", include("wallet.aggregator.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="prometheus-django-metrics"),
]

handler404 = "config.api.errors.api_not_found"
handler500 = "config.api.errors.api_server_error"
