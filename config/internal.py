"""Internal endpoints: `/metrics` (Prometheus) and the API schema and docs, behind auth.

`/metrics` answers a scraper that sends `Authorization: Bearer <PITBOSS_METRICS_TOKEN>`, a
staff user's session, or — when no token is configured — requests from loopback only (a
Prometheus agent beside the process). The OpenAPI schema and Swagger UI need an authenticated
user (an API token or a staff session). docs/operations.md says how to scrape.
"""

import hmac
from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from config.celery import app as celery_app
from config.observability import celery_queues, metrics_registry, queue_collector_register


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.PITBOSS.get("METRICS_TOKEN", "")
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer "):
        return hmac.compare_digest(sent.removeprefix("Bearer ").strip(), token)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    if token:
        return False
    try:
        return ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics for a scraper allowed by `_metrics_allowed` (403 otherwise)."""
    queue_collector_register(settings.CELERY_BROKER_URL, celery_queues(celery_app.conf))
    if not _metrics_allowed(request):
        return JsonResponse(
            {"error": {"code": "forbidden", "message": "Metrics need a token.", "details": {}}},
            status=403,
        )
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
