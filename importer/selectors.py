"""Reads of the importer: the state of the import jobs for the back office dashboard."""

from datetime import timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from importer.models import ImportJob

RECENT_FAILURES_DAYS = 7


def import_jobs_summary(*, now=None) -> dict:
    """Import jobs running, queued and failed (in the last `RECENT_FAILURES_DAYS` days), in one
    query: `{"running": int, "queued": int, "failed": int, "failed_days": 7,
    "last_failed_at": datetime | None}`."""
    now = now or timezone.now()
    recent_failure = Q(status=ImportJob.Status.FAILED) & Q(
        created_at__gte=now - timedelta(days=RECENT_FAILURES_DAYS)
    )
    summary = ImportJob.objects.aggregate(
        running=Count("pk", filter=Q(status=ImportJob.Status.RUNNING)),
        queued=Count("pk", filter=Q(status=ImportJob.Status.QUEUED)),
        failed=Count("pk", filter=recent_failure),
        last_failed_at=Max("created_at", filter=recent_failure),
    )
    return {**summary, "failed_days": RECENT_FAILURES_DAYS}
