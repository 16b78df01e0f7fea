"""Celery tasks of the importer: one task per stage, chained per job (importer/queueing.py)."""

from celery import shared_task

from importer import services
from importer.queueing import IMPORT_STAGE_TASK


@shared_task(name=IMPORT_STAGE_TASK, acks_late=True)
def import_stage(job_id: int, stage: str) -> str:
    return services.import_stage_run(job_id=job_id, stage=stage)
