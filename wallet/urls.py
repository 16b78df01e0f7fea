"""API routes of the wallet app, mounted under /api/v1/."""

from django.urls import path

from wallet import api
from wallet.aggregator.api import PlayerGameSessionView
from wallet.api_events import EventsView

urlpatterns = [
    path("events/", EventsView.as_view(), name="events"),
    path("players/<player_id:external_id>/wallet/", api.PlayerWalletView.as_view(), name="wallet"),
    path("players/<player_id:external_id>/ledger/", api.PlayerLedgerView.as_view(), name="ledger"),
    path(
        "players/<player_id:external_id>/bonuses/",
        api.PlayerBonusGrantView.as_view(),
        name="bonus-grant",
    ),
    path(
        "players/<player_id:external_id>/adjustments/",
        api.PlayerAdjustmentView.as_view(),
        name="adjustment",
    ),
    path(
        "players/<str:external_id>/game-sessions/",
        PlayerGameSessionView.as_view(),
        name="game-session-open",
    ),
    path("bonuses/<int:bonus_id>/forfeit/", api.BonusForfeitView.as_view(), name="bonus-forfeit"),
]
