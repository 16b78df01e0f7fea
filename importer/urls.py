"""API routes of the importer app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from importer.api import ImportJobViewSet, ImportTemplateViewSet

router = SimpleRouter()
router.register("imports/templates", ImportTemplateViewSet, basename="import-template")
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = [*router.urls]
