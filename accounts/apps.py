from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "API accounts and tokens"

    def ready(self) -> None:
        from accounts import authentication

        authentication.signals_connect()
