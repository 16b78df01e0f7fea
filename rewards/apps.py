"""Rules, the expression language, evaluation and rewards."""

from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "Rules, the expression language, evaluation and rewards"
    # the importer runs these after a load (metrics → segmentation → rules → …)
    post_import_steps = {"rules": "rewards.services.rules_run_after_import"}

    def ready(self) -> None:
        try:  # the event ingestion seam (issue 9)
            from wallet.events import event_listener_register
        except ImportError:
            return
        from rewards.services import rules_event_listener

        event_listener_register(rules_event_listener)
