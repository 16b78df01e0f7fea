"""Celery tasks of the players app: thin wrappers around services."""

from celery import shared_task

from players import services


@shared_task(acks_late=True)
def players_refresh(player_ids: list[int] | None = None) -> None:
    services.players_refresh(player_ids=player_ids)


@shared_task(acks_late=True)
def players_refresh_all() -> None:
    services.players_refresh(player_ids=None)
