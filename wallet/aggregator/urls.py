"""The Valkyrie PAM API routes (the spec's paths), mounted under /api/aggregators/valkyrie/.

Path parameters are any text (a player id may hold a slash or even a newline once decoded), so
every id reaches the view, which answers in the spec's shape, rather than a 404 of no operation.
"""

from django.urls import path, re_path

from wallet.aggregator import valkyrie

ANY = r"[\s\S]*"

urlpatterns = [
    path("players/session", valkyrie.SessionView.as_view(), name="valkyrie-session"),
    re_path(
        rf"^players/(?P<player_id>{ANY})/balance\Z",
        valkyrie.BalanceView.as_view(),
        name="valkyrie-balance",
    ),
    re_path(
        rf"^players/(?P<player_id>{ANY})/transactions\Z",
        valkyrie.TransactionsView.as_view(),
        name="valkyrie-transactions",
    ),
    re_path(
        rf"^players/(?P<player_id>{ANY})/gamerounds/(?P<round_id>{ANY})\Z",
        valkyrie.GameRoundView.as_view(),
        name="valkyrie-gameround",
    ),
]
