from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class PlayersConfig(AppConfig):
    name = "players"
    verbose_name = "Players, activity, metrics and segments"
    # importer/pipeline.py runs these after every import, for the players it touched
    post_import_steps = {
        "metrics": "players.services.metrics_refresh_after_import",
        "segmentation": "players.services.segments_refresh_after_import",
    }

    def ready(self) -> None:
        import players.tasks  # noqa: F401  (the batch task names, in every process)
        from config.roles import roles_sync
        from players import services
        from players.batch import BatchKind, batch_kind_register
        from players.money import currencies_forget

        batch_kind_register("metrics_refresh", BatchKind(chunk=services.metrics_refresh_chunk))
        batch_kind_register("segments_refresh", BatchKind(chunk=services.segments_refresh_chunk))
        batch_kind_register(
            "players_refresh",
            BatchKind(chunk=services.players_refresh_chunk, finish=services.players_refresh_finish),
        )

        # after the last app's permissions exist (roles_sync skips the other apps' signals)
        post_migrate.connect(roles_sync, dispatch_uid="pitboss_roles_sync")
        post_migrate.connect(currencies_forget, dispatch_uid="players_currencies_forget_migrate")
        for signal in (post_save, post_delete):
            signal.connect(
                currencies_forget,
                sender="players.Currency",
                dispatch_uid="players_currencies_forget",
            )
