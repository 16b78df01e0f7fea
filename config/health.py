"""`GET /healthz` (liveness: is the database reachable, and the broker when one is configured)
and `GET /readyz` (readiness: the same, and every migration applied — a process of a new
release waits for `migrate` before taking traffic)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def healthz(request) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - a health check reports, it does not raise
        return f"error: {error.__class__.__name__}"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}"


def _check_migrations() -> str:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}"
    return "ok" if not pending else f"pending: {len(pending)}"


def readyz(request) -> JsonResponse:
    checks = {
        "database": _check_database(),
        "broker": _check_broker(),
        "migrations": _check_migrations(),
    }
    ready = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "fail", **checks}, status=200 if ready else 503
    )
