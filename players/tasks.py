"""Celery tasks of the players app: thin wrappers around services."""

from celery import shared_task

from players import batch, services


@shared_task(acks_late=True)
def players_refresh(player_ids: list[int] | None = None) -> None:
    services.players_refresh(player_ids=player_ids)


@shared_task(acks_late=True)
def players_refresh_all() -> None:
    """The nightly refresh: a `players_refresh` batch job that every worker shares."""
    batch.batch_job_create(kind="players_refresh")


@shared_task(name=batch.EXECUTE_TASK, acks_late=True, task_reject_on_worker_lost=True)
def batch_job_execute(*, job_id: int) -> str:
    """Prepare a batch job and fan its chunks out (a Celery group every worker shares)."""
    try:
        job = batch.batch_job_execute(job_id=job_id)
    except Exception as error:
        batch.batch_job_fail(job_id=job_id, error=repr(error))
        raise
    return f"{job.chunks_total} chunks queued"


@shared_task(name=batch.CHUNK_TASK, bind=True, acks_late=True, task_reject_on_worker_lost=True)
def batch_chunk(self, *, job_id: int, index: int, first_id: int, last_id: int) -> str:
    """One chunk of a batch job; a re-delivered chunk finds its claim and does nothing."""
    try:
        return batch.batch_chunk_run(
            job_id=job_id, index=index, first_id=first_id, last_id=last_id,
            worker=self.request.hostname or "",
        )  # fmt: skip
    except Exception as error:
        batch.batch_job_fail(job_id=job_id, error=f"chunk {index}: {error!r}")
        raise
