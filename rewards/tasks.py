"""Celery tasks of the rules engine: one-line wrappers over rewards.services (idempotent)."""

from celery import shared_task

from rewards import queueing, services
from rewards.runs import chunk_range_run


@shared_task(name=queueing.RUN_TASK, acks_late=True, task_reject_on_worker_lost=True)
def rules_run(*, run_id: int) -> None:
    """Fan a queued run out into chunk tasks (a Celery group)."""
    try:
        services.run_execute(run_id=run_id)
    except Exception as error:
        services.run_fail(run_id=run_id, error=repr(error))
        raise


@shared_task(name=queueing.CHUNK_TASK, bind=True, acks_late=True, task_reject_on_worker_lost=True)
def rules_run_chunk(self, *, run_id: int, index: int, first_id: int, last_id: int) -> str:
    """One chunk of a run (an id range); a re-delivered chunk finds its claim and does nothing."""
    try:
        return chunk_range_run(
            run_id=run_id, index=index, first_id=first_id, last_id=last_id,
            worker=self.request.hostname or "",
        )  # fmt: skip
    except Exception as error:
        services.run_fail(run_id=run_id, error=f"chunk {index}: {error!r}")
        raise


@shared_task(name=queueing.EVENT_TASK, acks_late=True)
def rules_event_run(*, player_id: int, event: dict) -> None:
    services.rules_event_evaluate(player_id=player_id, event=event)


@shared_task(name=queueing.SCHEDULE_TASK, acks_late=True)
def rule_run_scheduled(*, rule_id: int) -> None:
    services.rule_run_scheduled(rule_id=rule_id)
