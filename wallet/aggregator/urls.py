"""The Valkyrie PAM API routes (the spec's paths), mounted under /api/aggregators/valkyrie/."""

from django.urls import path

from wallet.aggregator import valkyrie

urlpatterns = [
    path("players/session", valkyrie.SessionView.as_view(), name="valkyrie-session"),
    path(
        "players/<path:player_id>/balance",
        valkyrie.BalanceView.as_view(),
        name="valkyrie-balance",
    ),
    path(
        "players/<path:player_id>/transactions",
        valkyrie.TransactionsView.as_view(),
        name="valkyrie-transactions",
    ),
    path(
        "players/<path:player_id>/gamerounds/<path:round_id>",
        valkyrie.GameRoundView.as_view(),
        name="valkyrie-gameround",
    ),
]
