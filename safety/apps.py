from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Eligibility, profit safety, fraud detection and the review queue"
    # importer/pipeline.py runs it after every import, for the players it touched
    post_import_steps = {"safety": "safety.services.fraud_scan_after_import"}

    def ready(self) -> None:
        from players.batch import BatchKind, batch_kind_register
        from safety import services
        from safety.eligibility import reward_guard
        from wallet.events import event_listener_register, event_refusal_listener_register
        from wallet.guards import reward_guard_register

        # every wallet reward (bonus grant, cash reward) asks eligibility first (SPEC §7)
        reward_guard_register(reward_guard)
        # fingerprints are stored by the ingestion path itself; the cheap per-event detectors
        # (chargeback, max-bet breach) run after commit
        from safety.listeners import events_applied, events_refused

        event_listener_register(events_applied)
        event_refusal_listener_register(events_refused)
        # the fraud scan as a batch job that many workers share (players/batch.py)
        batch_kind_register(
            "fraud_scan",
            BatchKind(
                chunk=services.fraud_scan_job_chunk,
                prepare=services.fraud_scan_prepare,
                finish=services.fraud_scan_finish,
            ),
        )
