"""Webhook endpoints, the outbox of events and the deliveries of each event to each endpoint."""

import uuid

from django.conf import settings
from django.db import models

from config.domain_events import EVENT_TYPES


class WebhookEndpoint(models.Model):
    """A receiver registered by staff, with the event types it wants and its signing secret.

    The secret is needed in clear to sign (HMAC), so it is stored as such and shown once, when
    it is created or rotated. After a rotation the previous secret keeps signing too (a second
    signature) until `previous_secret_until`, so receivers can switch without losing events.
    """

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=255, blank=True)
    event_types = models.JSONField(default=list, help_text=f"Any of: {', '.join(EVENT_TYPES)}")
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True)
    max_in_flight = models.PositiveSmallIntegerField(
        default=4, help_text="Deliveries sent to this endpoint at the same time, at most."
    )
    disabled_reason = models.CharField(max_length=255, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One domain event in the outbox, written in the transaction of the change it reports."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=[(t, t) for t in EVENT_TYPES])
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """An event to one endpoint. Its id is the delivery id the receiver deduplicates by: the
    same on every retry and re-send."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["endpoint", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint.url} ({self.status})"
