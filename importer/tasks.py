"""Celery tasks of the importer: one task per stage, chained per job."""

from celery import chain, shared_task

from importer import services


@shared_task(acks_late=True)
def import_stage(job_id: int, stage: str) -> str:
    return services.import_stage_run(job_id=job_id, stage=stage)


def import_chain(job_id: int):
    """The job's stages as one Celery chain (each stage is idempotent; see ADR 0005)."""
    return chain(import_stage.si(job_id, stage) for stage in services.STAGES)
