from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        import webhooks.tasks  # noqa: F401  (registers the tasks by name in every process)
        from config.domain_events import domain_event_sink_register
        from webhooks.services import OutboxSink

        domain_event_sink_register(OutboxSink())
