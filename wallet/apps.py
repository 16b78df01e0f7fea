from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Accounts, the double-entry ledger, bonuses and wagering"
