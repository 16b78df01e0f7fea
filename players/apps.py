from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PlayersConfig(AppConfig):
    name = "players"
    verbose_name = "Players, activity, metrics and segments"

    def ready(self) -> None:
        from config.roles import roles_sync

        post_migrate.connect(roles_sync, sender=self, dispatch_uid="pitboss_roles_sync")
