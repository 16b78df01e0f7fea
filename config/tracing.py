"""OpenTelemetry tracing of requests, Celery tasks and SQL — off unless an exporter is set.

With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the standard
variables) or the setting `PITBOSS["OTEL_ENDPOINT"]`, each web process (config/wsgi.py,
config/asgi.py) and each Celery worker process (config/celery.py) installs a tracer provider
that batches spans to that OTLP/HTTP endpoint, and instruments Django (a span per request,
named by route), Celery (a span per task, linked to the request that queued it) and psycopg (a
span per SQL statement). Every span started inside a request or a task carries its
`pitboss.request_id` / `pitboss.job_id` (from the structlog context, config/observability.py),
and the request span the request id it answered with.

Without an endpoint nothing is imported or installed: no provider, no middleware, no wrapped
connection — no overhead. docs/operations.md "Tracing".
"""

import os

import structlog
from django.conf import settings

_installed: list = []  # the instrumentors of this process (to undo in tests)

CONTEXT_ATTRIBUTES = {"request_id": "pitboss.request_id", "job_id": "pitboss.job_id"}


def tracing_endpoint() -> str:
    """The OTLP/HTTP endpoint spans go to, or "" (tracing off)."""
    return (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or str(getattr(settings, "PITBOSS", {}).get("OTEL_ENDPOINT", "") or "")
    )


def _context_processor():
    from opentelemetry.sdk.trace import SpanProcessor

    class ContextAttributes(SpanProcessor):
        """Copies the request id and job id of the log context onto every span it starts."""

        def on_start(self, span, parent_context=None) -> None:
            bound = structlog.contextvars.get_contextvars()
            for key, attribute in CONTEXT_ATTRIBUTES.items():
                if bound.get(key):
                    span.set_attribute(attribute, str(bound[key]))

    return ContextAttributes()


def _request_id_on_span(span, request, response) -> None:
    if span is not None and span.is_recording() and response.get("X-Request-ID"):
        span.set_attribute("pitboss.request_id", response["X-Request-ID"])


def tracing_configure(*, service: str, exporter=None) -> bool:
    """Install tracing in this process when an endpoint is configured (or `exporter` is given,
    e.g. an in-memory one in tests, in which case the global provider is left alone). Returns
    whether tracing is on. Call it once per process, after fork, before the first request."""
    if _installed:
        return True
    endpoint = tracing_endpoint()
    if exporter is None and not endpoint:
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(_context_processor())
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            endpoint = endpoint.rstrip("/") + "/v1/traces" * (not endpoint.endswith("/v1/traces"))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    django = DjangoInstrumentor()
    django.instrument(tracer_provider=provider, response_hook=_request_id_on_span)
    psycopg = PsycopgInstrumentor()
    psycopg.instrument(tracer_provider=provider, skip_dep_check=True)
    celery = CeleryInstrumentor()
    celery.instrument(tracer_provider=provider)
    _installed.extend([django, psycopg, celery])
    return True


def tracing_remove() -> None:
    """Undo `tracing_configure` (tests)."""
    while _installed:
        _installed.pop().uninstrument()
