"""Rules, the expression language, evaluation and rewards."""

from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "Rules, the expression language, evaluation and rewards"
    # the importer runs these after a load (metrics → segmentation → rules → …)
    post_import_steps = {"rules": "rewards.services.rules_run_after_import"}

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from players.services import daily_rollup_register, segment_refresher_register
        from rewards import tasks  # noqa: F401  registers the task names rewards/queueing.py uses
        from rewards.event_triggers import rule_changed
        from rewards.names import names_register
        from rewards.segments import custom_segments_refresh
        from rewards.services import reward_days_refresh, rules_event_listener
        from wallet.events import event_listener_register

        names_register()  # metrics, player attributes and event fields for expressions
        # custom segments follow every lifecycle segmentation (SPEC §5)
        segment_refresher_register(custom_segments_refresh)
        # the dashboard's rewards per rule per day, rolled up with its daily money (ADR 0015)
        daily_rollup_register(reward_days_refresh)
        # on_event:<type> rules: evaluated by a Celery task after the event commits
        event_listener_register(rules_event_listener)
        # the listener's per-process copy of the active on_event triggers follows every rule
        post_save.connect(rule_changed, sender="rewards.Rule", dispatch_uid="rules_gen_save")
        post_delete.connect(rule_changed, sender="rewards.Rule", dispatch_uid="rules_gen_delete")
