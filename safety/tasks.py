"""Celery tasks of the safety app: thin wrappers around services (beat runs `fraud_scan`)."""

from decimal import Decimal
from types import SimpleNamespace

from celery import shared_task

from players.batch import batch_job_create, batch_job_execute
from safety import services


@shared_task(name="safety.tasks.fraud_scan", acks_late=True)
def fraud_scan(player_ids: list[int] | None = None, chunk_size: int | None = None) -> str:
    """Beat's fraud scan: a `fraud_scan` batch job whose chunks every worker shares."""
    job = batch_job_create(
        kind="fraud_scan", player_ids=player_ids, chunk_size=chunk_size, start=False
    )
    job = batch_job_execute(job_id=job.pk)
    return f"fraud scan job {job.pk}: {job.chunks_total} chunks"


@shared_task(name="safety.tasks.fraud_activities_check")
def fraud_activities_check(activity_ids: list[int]) -> int:
    return services.fraud_activities_check(activity_ids=activity_ids)


@shared_task(name="safety.tasks.fraud_refusals_check")
def fraud_refusals_check(refused: list[dict]) -> int:
    events = [SimpleNamespace(**{**r, "amount": Decimal(r["amount"])}) for r in refused]
    return services.fraud_refusals_check(refused=events)
