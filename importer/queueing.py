"""Queueing an import job's stages as one Celery chain, by task name.

The services queue jobs and the tasks run the services' stages; naming the task here (instead
of importing importer/tasks.py from the services) keeps the two modules from importing each
other. importer/apps.py imports the tasks so that the name is registered in every process.
"""

from collections.abc import Sequence

from celery import chain, signature

IMPORT_STAGE_TASK = "importer.import_stage"


def import_chain(job_id: int, stages: Sequence[str]):
    """The job's stages as one Celery chain (each stage is idempotent; see ADR 0005)."""
    return chain(
        signature(IMPORT_STAGE_TASK, args=(job_id, stage), immutable=True) for stage in stages
    )
