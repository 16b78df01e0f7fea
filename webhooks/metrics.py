"""Prometheus metrics of webhook deliveries (served on /metrics with the rest)."""

from prometheus_client import Counter

DELIVERIES = Counter(
    "pitboss_webhook_deliveries_total",
    "Webhook delivery attempts by endpoint id and outcome (succeeded, retry, failed, gone).",
    ["endpoint", "outcome"],
)
