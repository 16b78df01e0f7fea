"""Reads of the webhooks app for the back office."""

from webhooks.models import WebhookEndpoint


def endpoints_disabled() -> list[dict]:
    """Endpoints switched off (by staff, or automatically after failing deliveries), in one
    query: `[{"id", "url", "disabled_reason", "failing_since"}, …]`, the oldest failure first."""
    return list(
        WebhookEndpoint.objects.filter(active=False)
        .values("id", "url", "disabled_reason", "failing_since")
        .order_by("failing_since", "pk")
    )
