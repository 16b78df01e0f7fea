"""Celery tasks of the safety app: thin wrappers around services (beat runs `fraud_scan`)."""

from decimal import Decimal
from types import SimpleNamespace

from celery import chord, shared_task

from safety import services


@shared_task(name="safety.tasks.fraud_scan")
def fraud_scan(player_ids: list[int] | None = None) -> str:
    """Clusters first, then the per-player detectors fanned out as one task per chunk."""
    services.clusters_refresh()
    chunks = services.player_chunks(player_ids=player_ids)
    if not chunks:
        return "no players"
    chord(fraud_scan_chunk.s(chunk) for chunk in chunks)(fraud_scan_done.s())
    return f"{len(chunks)} chunks queued"


@shared_task(name="safety.tasks.fraud_scan_chunk")
def fraud_scan_chunk(player_ids: list[int]) -> int:
    return services.fraud_scan_chunk(player_ids=player_ids)


@shared_task(name="safety.tasks.fraud_scan_done")
def fraud_scan_done(flags: list[int]) -> int:
    return sum(flags)


@shared_task(name="safety.tasks.fraud_activities_check")
def fraud_activities_check(activity_ids: list[int]) -> int:
    return services.fraud_activities_check(activity_ids=activity_ids)


@shared_task(name="safety.tasks.fraud_refusals_check")
def fraud_refusals_check(refused: list[dict]) -> int:
    events = [SimpleNamespace(**{**r, "amount": Decimal(r["amount"])}) for r in refused]
    return services.fraud_refusals_check(refused=events)
