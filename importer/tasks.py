"""Celery tasks of the importer: one task per stage, chained per job (importer/queueing.py),
and the reading of a workbook's sheet that an upload asks a worker for (importer/reading.py)."""

from celery import shared_task

from config.errors import DomainError
from importer import reading, services
from importer.queueing import IMPORT_STAGE_TASK


@shared_task(name=IMPORT_STAGE_TASK, acks_late=True)
def import_stage(job_id: int, stage: str) -> str:
    return services.import_stage_run(job_id=job_id, stage=stage)


@shared_task(name=reading.SHEET_CONVERT_TASK)
def sheet_convert(path: str, sheet: str, rows_path: str) -> dict:
    """The sheet's metadata, or `{"error": {code, message, details, status}}` for a refusal
    (the web process raises it again)."""
    try:
        return reading.sheet_convert_here(path, sheet, rows_path)
    except DomainError as error:
        return {
            "error": {
                "code": error.code,
                "message": error.message,
                "details": error.details,
                "status": error.status_code,
            }
        }
