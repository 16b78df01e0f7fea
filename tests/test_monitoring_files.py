"""The Grafana dashboard and the Prometheus alert rules in deploy/ (docs/operations.md) name
only metrics that Pitboss exports: after driving some traffic through the real code paths,
every metric their PromQL reads is in the /metrics answer. `promtool check rules` (Debian's
prometheus package, installed by .ci/run) checks the rules file's syntax."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from players.tasks import players_refresh_all
from tests.metrics import names, scrape
from tests.rewards.rules.conftest import RULE, player_make

pytestmark = pytest.mark.django_db

DEPLOY = Path(settings.BASE_DIR) / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "pitboss-dashboard.json"
# Series Prometheus makes itself, not the exporter.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "bool", "offset", "inf", "nan"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    keywords, label names (inside {} or a by/without list) or durations."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    tokens = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)\b(?!\s*\()", expr)
    return {t for t in tokens if t.lower() not in PROMQL_WORDS and not re.fullmatch(r"\d", t)}


def alert_expressions() -> dict[str, str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> dict[str, str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return {
        panel["title"]: target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }


def test_promql_names_are_read_as_prometheus_reads_them():
    assert metric_names(
        'histogram_quantile(0.95, sum by (le, view) (rate(a_bucket{status=~"5.."}[5m]))) > 1'
    ) == {"a_bucket"}
    assert metric_names("sum(rate(x_total[5m])) / sum(rate(y_total[5m])) > 0.2") == {
        "x_total",
        "y_total",
    }


def test_every_metric_the_alerts_and_the_dashboard_read_is_exported(
    service_client, operator_client, django_capture_on_commit_callbacks
):
    # traffic through the real paths: requests, an applied and a rejected event, a rule run
    # issuing a reward, a task
    event = {"player_id": "mon-p", "currency": "EUR", "occurred_at": "2026-11-20T10:00:00+00:00"}
    with django_capture_on_commit_callbacks(execute=True):
        service_client.post("/api/v1/events/", {**event, "external_id": "mon-1", "type": "deposit",
                                                "amount": "10.00"}, format="json")  # fmt: skip
        service_client.post("/api/v1/events/", {**event, "external_id": "mon-2", "type": "bet",
                                                "amount": "99.00"}, format="json")  # fmt: skip
        rule = operator_client.post("/api/v1/rules/", RULE, format="json").json()
        player_make(metrics={"7d": {"net_loss": "300"}})
        operator_client.post("/api/v1/rules/run/", {"rules": [rule["id"]]}, format="json")
    players_refresh_all.delay()
    from webhooks.metrics import DELIVERIES

    # a labelled counter appears once it has counted: a real delivery to a receiver on loopback
    # is counted in tests/webhooks/test_delivery.py; here its name is what matters
    DELIVERIES.labels("0", "succeeded")
    exported = names(scrape()) | PROMETHEUS_SERIES
    if "pitboss_celery_queue_length" not in exported:  # no Redis broker in this process
        exported.add("pitboss_celery_queue_length")
    expressions = {**alert_expressions(), **dashboard_expressions()}
    assert len(expressions) >= 15
    unknown = {
        name: sorted(metric_names(expr) - exported)
        for name, expr in expressions.items()
        if metric_names(expr) - exported
    }
    assert not unknown, unknown


def test_the_dashboard_covers_every_product_metric():
    read = set().union(*(metric_names(e) for e in dashboard_expressions().values()))
    for metric in ("pitboss_events_total", "pitboss_rewards_total",
                   "pitboss_wallet_operations_total", "pitboss_task_duration_seconds_bucket",
                   "pitboss_celery_queue_length", "pitboss_webhook_deliveries_total",
                   "django_http_requests_latency_seconds_by_view_method_bucket"):  # fmt: skip
        assert metric in read, metric


def test_the_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    if promtool is None:
        if __import__("os").environ.get("CI"):
            pytest.fail("promtool is missing (.ci/run installs Debian's prometheus package)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    result = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_runbook_in_the_docs():
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    docs = (Path(settings.BASE_DIR) / "docs" / "operations.md").read_text()
    for rule in (r for g in groups for r in g["rules"]):
        assert rule["alert"] in docs, f"{rule['alert']} is not in docs/operations.md"
        runbook = rule["annotations"]["runbook"]
        anchor = runbook.partition("#")[2]
        if anchor:
            assert re.search(r"^#+ " + anchor.replace("-", r"[\s:-]*").replace("runbook", "Runbook"),
                             docs, re.MULTILINE | re.IGNORECASE), runbook  # fmt: skip
