"""API routes of the rewards app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from rewards.api import CustomSegmentViewSet

router = SimpleRouter()
router.register("segments/custom", CustomSegmentViewSet, basename="custom-segment")

urlpatterns = [*router.urls]
