from django.apps import AppConfig


def _metrics_refresh_listener(applied) -> None:
    """After live events commit, refresh the touched players' metrics and segments."""
    from players.refresh_queue import players_refresh_soon

    players_refresh_soon({event.player_id for event in applied})


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Accounts, the double-entry ledger, bonuses and wagering"

    def ready(self) -> None:
        from players.services import player_status_listener_register
        from wallet.events import event_listener_register
        from wallet.services.bonuses import bonuses_forfeit_inactive_players

        # The wallet owns the ingestion path, so it hooks the players app's refresh queue on
        # (players sits below the wallet and cannot register itself).
        event_listener_register(_metrics_refresh_listener)
        # A player who leaves `active` (self-exclusion, block, closure) forfeits bonuses at once.
        player_status_listener_register(bonuses_forfeit_inactive_players)
