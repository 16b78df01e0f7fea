"""API routes of the players app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from players.api import PlayerViewSet, SegmentDistributionView

router = SimpleRouter(use_regex_path=False)  # players/<player_id:external_id>/
router.register("players", PlayerViewSet, basename="player")

urlpatterns = [
    path("segments/distribution/", SegmentDistributionView.as_view(), name="segment-distribution"),
    *router.urls,
]
