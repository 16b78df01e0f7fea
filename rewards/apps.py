from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "Rules, the expression language, evaluation and rewards"

    def ready(self) -> None:
        from players.services import segment_refresher_register
        from rewards.names import names_register
        from rewards.segments import custom_segments_refresh

        names_register()  # metrics, player attributes and event fields for expressions
        # custom segments follow every lifecycle segmentation (SPEC §5)
        segment_refresher_register(custom_segments_refresh)
