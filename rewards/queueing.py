"""Queueing the rules engine's Celery tasks by name.

Services queue work and the tasks run services; naming the tasks here (instead of importing
rewards/tasks.py from the services) keeps the two modules from importing each other.
rewards/apps.py imports the tasks so that the names are registered in every process.
"""

from celery import group, signature

RUN_TASK = "rewards.rules_run"
CHUNK_TASK = "rewards.rules_run_chunk"
EVENT_TASK = "rewards.rules_event_run"
SCHEDULE_TASK = "rewards.rule_run_scheduled"


def run_enqueue(run_id: int) -> None:
    signature(RUN_TASK, kwargs={"run_id": run_id}).delay()


def chunks_enqueue(run_id: int, chunks: list, *, queue: str | None = None) -> None:
    """The run's chunks (id ranges) as one Celery group that several workers share (on
    `queue`, default Celery's); a message carries the range, not the ids, so it stays a few
    bytes whatever the chunk size."""
    options = {"queue": queue} if queue else {}
    group(
        signature(
            CHUNK_TASK,
            kwargs={"run_id": run_id, "index": i, "first_id": c.first_id, "last_id": c.last_id},
        )
        for i, c in enumerate(chunks)
    ).apply_async(**options)


def event_enqueue(player_id: int, event: dict) -> None:
    signature(EVENT_TASK, kwargs={"player_id": player_id, "event": event}).delay()
