"""Webhook services: endpoints and their secrets, the outbox sink, delivery with retries.

Delivery (ADR 0009): a domain event is written to the outbox with one `WebhookDelivery` per
subscribed endpoint in the transaction of the change (`OutboxSink`); after commit each delivery
is queued to Celery. A worker claims it (at most `max_in_flight` per endpoint, under a lock on
the endpoint's row), POSTs it signed, and records the outcome: 2xx done; 410 disables the
endpoint; anything else (or a timeout) is retried with exponential backoff and jitter until a
day has passed. A beat job re-queues due and stranded deliveries, so an event committed while
the broker was down is delivered once it is back.
"""

import base64
import json
import random
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from ipaddress import ip_address
from urllib.parse import urlsplit

import requests
import structlog
from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook

from config.domain_events import EVENT_TYPES
from config.errors import DomainError
from webhooks.metrics import DELIVERIES
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = structlog.get_logger(__name__)

DELIVER_TASK = "webhooks.deliver"
RETRY_WINDOW = timedelta(days=1)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
CLAIM_SECONDS = 60
TIMEOUT = (3.05, 10)  # connect, read (seconds)
ROTATION_GRACE = timedelta(hours=24)
Status = WebhookDelivery.Status


# --- endpoints ---------------------------------------------------------------------------------
def _secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_url_check(url: str) -> str:
    """The URL if a webhook may be sent to it; DomainError `invalid_url` otherwise.

    https outside DEBUG; a loopback, private or link-local host only where allowed (tests).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DomainError("invalid_url", "The URL must be an absolute http(s) URL.")
    allow_local = settings.PITBOSS.get("WEBHOOKS_ALLOW_LOCAL", False)
    if parts.scheme != "https" and not (settings.DEBUG or allow_local):
        raise DomainError("invalid_url", "Webhook URLs must use https.")
    host = parts.hostname
    try:
        address = ip_address(host)
        local = address.is_loopback or address.is_private or address.is_link_local
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if local and not allow_local:
        raise DomainError("invalid_url", "Webhook URLs may not point at local addresses.")
    return url


def _event_types_check(event_types: Iterable[str]) -> list[str]:
    chosen = sorted(set(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if not chosen or unknown:
        raise DomainError(
            "invalid_event_types",
            f"Choose one or more of {', '.join(EVENT_TYPES)}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
        )
    return chosen


def endpoint_create(
    *,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    max_in_flight: int = 4,
    active: bool = True,
    by=None,
) -> tuple[WebhookEndpoint, str]:
    """Register a receiver; returns it and its signing secret (shown to staff this once).

    Raises `invalid_url` (not https outside DEBUG, or a local address), `invalid_event_types`.
    """
    endpoint = WebhookEndpoint.objects.create(
        url=endpoint_url_check(url),
        event_types=_event_types_check(event_types),
        description=description,
        max_in_flight=max(1, max_in_flight),
        active=active,
        secret=_secret_new(),
        created_by=by,
    )
    return endpoint, endpoint.secret


def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change url, event types, description, active or max_in_flight (validated as on create).

    Re-activating an endpoint clears why it was disabled."""
    if "url" in changes:
        changes["url"] = endpoint_url_check(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = _event_types_check(changes["event_types"])
    if changes.get("active"):
        changes.update(disabled_reason="", failing_since=None)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, grace: timedelta = ROTATION_GRACE) -> str:
    """A new signing secret (returned once); the old one also signs for `grace`."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = timezone.now() + grace
        endpoint.secret = _secret_new()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint.secret


# --- the outbox --------------------------------------------------------------------------------
class OutboxSink:
    """The domain-event sink of the webhooks app (registered in webhooks/apps.py)."""

    def subscribers(self, event_type: str) -> list[WebhookEndpoint]:
        """The active endpoints that want `event_type` (one query)."""
        return [
            e for e in WebhookEndpoint.objects.filter(active=True) if event_type in e.event_types
        ]

    def write(
        self, event_type: str, items: Sequence[dict], endpoints: Sequence[WebhookEndpoint]
    ) -> None:
        events = WebhookEvent.objects.bulk_create(
            [WebhookEvent(type=event_type, data=data) for data in items]
        )
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
                for event in events
                for endpoint in endpoints
            ]
        )
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: deliveries_queue(ids))


def deliveries_queue(delivery_ids: Iterable) -> int:
    """Queue deliveries to Celery; a broker outage leaves them in the outbox for the beat job."""
    queued = 0
    for delivery_id in delivery_ids:
        try:
            signature(DELIVER_TASK, args=(str(delivery_id),)).apply_async()
            queued += 1
        except Exception:  # noqa: BLE001 - the outbox keeps it; deliveries_due_queue retries
            log.warning("webhook_queue_failed", delivery=str(delivery_id))
    return queued


def deliveries_due_queue(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Queue pending deliveries that are due, and those a dead worker left claimed (beat)."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(endpoint__active=True)
        .filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return deliveries_queue(list(due))


def deliveries_resend(*, delivery_ids: Iterable) -> int:
    """Send these deliveries again now, under their own ids (receivers deduplicate by id)."""
    ids = list(delivery_ids)
    count = WebhookDelivery.objects.filter(pk__in=ids).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )
    transaction.on_commit(lambda: deliveries_queue(ids))
    return count


# --- one delivery ------------------------------------------------------------------------------
def _claim(delivery_id, now: datetime) -> WebhookDelivery | None:
    """Mark the delivery `sending` if it is due and its endpoint has room (None otherwise)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_related("event")
            .filter(pk=delivery_id)
            .filter(
                Q(status=Status.PENDING, next_attempt_at__lte=now)
                | Q(status=Status.SENDING, claimed_until__lt=now)
            )
            .first()
        )
        if delivery is None:
            return None
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if not endpoint.active:
            return None
        in_flight = WebhookDelivery.objects.filter(
            endpoint=endpoint, status=Status.SENDING, claimed_until__gte=now
        ).count()
        if in_flight >= endpoint.max_in_flight:
            return None  # the beat job comes back for it
        claimed = WebhookDelivery.objects.filter(pk=delivery.pk, status=delivery.status).update(
            status=Status.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
        )
        if not claimed:
            return None
        delivery.endpoint = endpoint
        return delivery


def delivery_body(delivery: WebhookDelivery) -> str:
    """The JSON body: the same bytes on every attempt of this delivery."""
    event = delivery.event
    return json.dumps(
        {
            "id": str(delivery.pk),
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def delivery_headers(delivery: WebhookDelivery, body: str, *, at: datetime) -> dict:
    """Standard Webhooks headers: id, timestamp, and a `v1` HMAC-SHA256 signature over
    `id.timestamp.body` per signing secret (two during a rotation's grace period)."""
    endpoint = delivery.endpoint
    keys = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_until or at) > at:
        keys.append(endpoint.previous_secret)
    msg_id = str(delivery.pk)
    signatures = " ".join(Webhook(key).sign(msg_id, at, body) for key in keys)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Pitboss-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def _backoff(attempts: int) -> timedelta:
    """Exponential (30 s, 1 min, 2 min, … capped at 1 h) with jitter (50–100%)."""
    delay = min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    return delay * random.uniform(0.5, 1.0)


def delivery_attempt(*, delivery_id, now: datetime | None = None) -> str | None:
    """Try one delivery now; returns its status after (None: not due, or no room).

    2xx → succeeded; 410 → failed, endpoint disabled; other codes, timeouts and connection
    errors → pending again after a backoff, failed once the retry window (a day) is over; an
    endpoint failing for a day is disabled.
    """
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    body = delivery_body(delivery)
    started = time.monotonic()
    code, error = None, ""
    try:
        response = requests.post(
            delivery.endpoint.url,
            data=body.encode(),
            headers=delivery_headers(delivery, body, at=now),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        code = response.status_code
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:500]
    duration = int((time.monotonic() - started) * 1000)
    return _outcome_record(delivery, now=now, code=code, error=error, duration=duration)


def _outcome_record(
    delivery: WebhookDelivery, *, now: datetime, code: int | None, error: str, duration: int
) -> str:
    endpoint = delivery.endpoint
    values = {
        "attempts": delivery.attempts + 1,
        "last_status_code": code,
        "last_error": error or ("" if code and code < 300 else f"HTTP {code}"),
        "last_duration_ms": duration,
        "claimed_until": None,
    }
    endpoint_changes: dict = {}
    if code is not None and 200 <= code < 300:
        values.update(status=Status.SUCCEEDED, delivered_at=now)
        endpoint_changes["failing_since"] = None
        outcome = "succeeded"
    elif code == 410:
        values["status"] = Status.FAILED
        endpoint_changes.update(active=False, disabled_reason="The receiver answered 410 Gone.")
        outcome = "gone"
    else:
        failing_since = endpoint.failing_since or now
        endpoint_changes["failing_since"] = failing_since
        if now - failing_since >= RETRY_WINDOW:
            endpoint_changes.update(
                active=False, disabled_reason=f"Failing since {failing_since:%Y-%m-%d %H:%M} UTC."
            )
        if now - delivery.created_at >= RETRY_WINDOW:
            values["status"] = Status.FAILED
            outcome = "failed"
        else:
            values.update(status=Status.PENDING, next_attempt_at=now + _backoff(values["attempts"]))
            outcome = "retry"
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
        if endpoint_changes:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**endpoint_changes)
    DELIVERIES.labels(endpoint=str(endpoint.pk), outcome=outcome).inc()
    log.info(
        "webhook_delivery",
        delivery=str(delivery.pk),
        endpoint=endpoint.pk,
        outcome=outcome,
        code=code,
        ms=duration,
    )
    return values["status"]
