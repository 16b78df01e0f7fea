"""Services that change players, their metrics and their segments."""

from collections.abc import Iterable
from datetime import datetime

import structlog
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from players.analytics import metrics_refresh_execute
from players.custom_segments import custom_segments_refresh
from players.models import Currency, Player
from players.segmentation import segments_refresh_execute

log = structlog.get_logger(__name__)


def player_get_or_create(
    *, external_id: str, currency: Currency, registered_at: datetime
) -> Player:
    """The player with this casino id, created on first sight (events may precede the profile)."""
    player = Player.objects.filter(external_id=external_id).first()
    if player is not None:
        return player
    try:
        with transaction.atomic():
            return Player.objects.create(
                external_id=external_id, currency=currency, registered_at=registered_at
            )
    except IntegrityError:  # created concurrently by another event of the same player
        return Player.objects.get(external_id=external_id)


def _ids(player_ids: Iterable[int] | None) -> list[int] | None:
    return None if player_ids is None else sorted(set(player_ids))


@transaction.atomic
def metrics_refresh(
    *, player_ids: Iterable[int] | None = None, as_of: datetime | None = None
) -> int:
    """Recompute stored metrics for these players (all when None), set-based in SQL."""
    ids = _ids(player_ids)
    if ids == []:
        return 0
    _players_lock(ids)
    rows = metrics_refresh_execute(as_of=as_of or timezone.now(), player_ids=ids)
    log.info("metrics_refreshed", players=len(ids) if ids is not None else "all", rows=rows)
    return rows


@transaction.atomic
def segments_refresh(*, player_ids: Iterable[int] | None = None) -> int:
    """Re-segment these players (all when None) from their stored metrics; returns changes."""
    ids = _ids(player_ids)
    if ids == []:
        return 0
    changed = segments_refresh_execute(changed_at=timezone.now(), player_ids=ids)
    custom_segments_refresh(player_ids=ids)
    log.info("segments_refreshed", players=len(ids) if ids is not None else "all", changed=changed)
    return changed


def _players_lock(ids: list[int] | None) -> None:
    """Serialise concurrent refreshes of the same players (PostgreSQL row locks).

    Without it, a refresh whose statement read the activity earlier can commit later and
    overwrite newer metrics, and two refreshes record the same segment change twice. NO KEY
    UPDATE does not block the events' inserts (their foreign keys take KEY SHARE).
    """
    if ids is None or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM players_player WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
            [ids],
        )


@transaction.atomic
def players_refresh(
    *, player_ids: Iterable[int] | None = None, as_of: datetime | None = None
) -> None:
    """Metrics, then lifecycle and custom segments: what new activity needs."""
    ids = _ids(player_ids)
    metrics_refresh(player_ids=ids, as_of=as_of)
    segments_refresh(player_ids=ids)


def player_status_set(*, player: Player, status: str, by=None) -> Player:
    """Change a player's status; leaving `active` forfeits their active bonuses at once (SPEC §7)."""
    with transaction.atomic():
        player.status = status
        player.save(update_fields=["status"])
        if status != Player.Status.ACTIVE:
            excluded_players_bonuses_forfeit(player_ids=[player.pk], by=by)
    return player


def excluded_players_bonuses_forfeit(*, player_ids: Iterable[int], by=None) -> int:
    """Forfeit the active bonuses of those of these players who are no longer active.

    Loops only over excluded players who still hold a bonus (each forfeit is a ledger
    transaction); returns how many players lost bonuses.
    """
    from wallet.models import Bonus
    from wallet.services import bonuses_forfeit_all

    holders = (
        Player.objects.filter(pk__in=list(player_ids), bonuses__status=Bonus.Status.ACTIVE)
        .exclude(status=Player.Status.ACTIVE)
        .distinct()
    )
    count = 0
    for player in holders.order_by("pk"):
        bonuses_forfeit_all(player=player, reason=f"player status {player.status}", by=by)
        count += 1
    return count
