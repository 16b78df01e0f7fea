"""OpenTelemetry tracing (config/tracing.py): off without an exporter; with one, an API request
gives a request span and SQL spans that carry the request id."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from config import tracing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spans(monkeypatch):
    exporter = InMemorySpanExporter()
    assert tracing.tracing_configure(service="pitboss-test", exporter=exporter)
    connection.close()  # the next connection is opened through the instrumented psycopg
    try:
        yield exporter
    finally:
        tracing.tracing_remove()
        connection.close()


@pytest.mark.postgres
def test_a_request_gives_a_request_span_and_sql_spans_with_its_request_id(spans, api_client_for):
    from rest_framework.test import APIClient

    authorization = api_client_for("analyst")._credentials["HTTP_AUTHORIZATION"]
    spans.clear()
    answer = APIClient().get(
        "/api/v1/players/", HTTP_AUTHORIZATION=authorization, HTTP_X_REQUEST_ID="trace-me-1"
    )
    assert answer.status_code == 200
    finished = spans.get_finished_spans()
    request = [s for s in finished if s.attributes.get("http.method") == "GET"
               or s.attributes.get("http.request.method") == "GET"]  # fmt: skip
    assert len(request) == 1, [s.name for s in finished]
    assert request[0].attributes["pitboss.request_id"] == "trace-me-1"
    assert "api/v1/players/" in request[0].name
    sql = [s for s in finished if s.attributes.get("db.system") == "postgresql"
           or s.attributes.get("db.system.name") == "postgresql"]  # fmt: skip
    assert sql, [s.name for s in finished]
    for span in sql:
        assert span.context.trace_id == request[0].context.trace_id
        assert span.attributes["pitboss.request_id"] == "trace-me-1"


def test_without_an_exporter_nothing_is_installed():
    env = {k: v for k, v in os.environ.items() if "OTEL_" not in k}  # PITBOSS_OTEL_ENDPOINT too
    env["PITBOSS_DEV"] = "1"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    probe = (
        "import sys, psycopg\n"
        "from config.wsgi import application\n"
        "from django.conf import settings\n"
        "from opentelemetry import trace\n"
        "assert type(trace.get_tracer_provider()).__name__ == 'ProxyTracerProvider'\n"
        "assert not any('opentelemetry' in m for m in settings.MIDDLEWARE), settings.MIDDLEWARE\n"
        "assert psycopg.connect.__module__ == 'psycopg.connection', psycopg.connect\n"
        "assert 'opentelemetry.sdk.trace' not in sys.modules\n"
        "print('off')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=settings.BASE_DIR, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "off"


def test_the_endpoint_comes_from_the_standard_variable_or_the_setting(monkeypatch, settings):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    settings.PITBOSS = {**settings.PITBOSS, "OTEL_ENDPOINT": ""}
    assert tracing.tracing_endpoint() == ""
    settings.PITBOSS = {**settings.PITBOSS, "OTEL_ENDPOINT": "http://collector:4318"}
    assert tracing.tracing_endpoint() == "http://collector:4318"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318")
    assert tracing.tracing_endpoint() == "http://otel:4318"
