from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


def _caches_clear(**_kwargs) -> None:
    from wallet.ledger import caches_clear

    caches_clear()


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Accounts, the double-entry ledger, bonuses and wagering"

    def ready(self) -> None:
        # House account ids and currency minor units are cached per process. A flush (tests)
        # ends with post_migrate; staff editing a currency saves it: both forget the cache.
        post_migrate.connect(_caches_clear, dispatch_uid="wallet_caches_clear_migrate")
        post_save.connect(
            _caches_clear, sender="players.Currency", dispatch_uid="wallet_caches_clear_currency"
        )
