"""API routes of the importer app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from importer.api import ImportJobViewSet, ImportLookupViewSet, ImportTemplateViewSet

router = SimpleRouter()
router.register("imports/templates", ImportTemplateViewSet, basename="import-template")
router.register("imports/lookups", ImportLookupViewSet, basename="import-lookup")
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = [
    path(
        "imports/<int:pk>/errors.csv",
        ImportJobViewSet.as_view({"get": "errors_csv"}),
        name="import-errors-csv",
    ),
    *router.urls,
]
