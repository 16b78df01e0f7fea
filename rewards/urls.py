"""API routes of the rewards app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from rewards.api import CustomSegmentViewSet
from rewards.api_rules import PlayerDecisionsView, RewardViewSet, RuleRunViewSet, RuleViewSet

router = SimpleRouter()
router.register("segments/custom", CustomSegmentViewSet, basename="custom-segment")
router.register("rules/runs", RuleRunViewSet, basename="rule-run")
router.register("rules", RuleViewSet, basename="rule")
router.register("rewards", RewardViewSet, basename="reward")

urlpatterns = [
    *router.urls,
    path(
        "players/<str:external_id>/decisions/",
        PlayerDecisionsView.as_view(),
        name="player-decisions",
    ),
]
