"""Services that change players, their metrics and their segments."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.domain_events import domain_events_emit
from players.analytics import metrics_refresh_execute
from players.batch import job_as_of
from players.models import ActivityDay, BatchJob, Currency, Player, SegmentChange
from players.segmentation import segments_refresh_execute
from players.selectors import daily_money, day_start, days_back

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


SegmentRefresher = Callable[..., object]
_segment_refreshers: list[SegmentRefresher] = []


def segment_refresher_register(refresher: SegmentRefresher) -> None:
    """Run `refresher(player_ids=[...] or None)` after every lifecycle segmentation.

    Register in `AppConfig.ready()` (rewards refreshes the custom segments, which are defined in
    its expression language). It runs in the segmentation's transaction. Idempotent.
    """
    if refresher not in _segment_refreshers:
        _segment_refreshers.append(refresher)


@transaction.atomic
def segments_refresh(*, player_ids: Iterable[int] | None = None) -> int:
    """Re-segment these players (all when None) from their stored metrics; returns changes."""
    ids = _ids(player_ids)
    if ids == []:
        return 0
    now = timezone.now()
    changed = segments_refresh_execute(changed_at=now, player_ids=ids)
    if changed:
        domain_events_emit("segment.changed", lambda: _segment_changes(changed_at=now, ids=ids))
    for refresher in _segment_refreshers:
        refresher(player_ids=ids)
    log.info("segments_refreshed", players=len(ids) if ids is not None else "all", changed=changed)
    return changed


def _segment_changes(*, changed_at: datetime, ids: list[int] | None) -> list[dict]:
    """The `data` of the segment.changed events of one refresh (one query, set-based)."""
    changes = SegmentChange.objects.filter(changed_at=changed_at)
    if ids is not None:
        changes = changes.filter(player_id__in=ids)
    return [
        {
            "player": external_id,
            "from": from_segment,
            "to": to_segment,
            "changed_at": changed_at.isoformat(),
            "metrics": metrics,
        }
        for external_id, from_segment, to_segment, metrics in changes.order_by("pk").values_list(
            "player__external_id", "from_segment", "to_segment", "metrics"
        )
    ]


def metrics_refresh_after_import(*, player_ids: list[int] | None, job_id: int) -> str:
    """Post-import step "metrics" (importer/pipeline.py): refresh the touched players."""
    rows = metrics_refresh(player_ids=player_ids)
    days = activity_days_refresh()  # an import may bring history: the dashboard's daily sums
    return f"{rows} metric rows refreshed, {days} daily totals rebuilt"


def segments_refresh_after_import(*, player_ids: list[int] | None, job_id: int) -> str:
    """Post-import step "segmentation": lifecycle and custom segments of the touched players."""
    changed = segments_refresh(player_ids=player_ids)
    return f"{changed} segment changes"


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
) -> int:
    """Metrics, then lifecycle and custom segments: what new activity needs. → segment changes.
    The full refresh (all players) also rebuilds the dashboard's daily roll-up; the nightly
    batch job does so when it finishes (`players_refresh_finish`)."""
    ids = _ids(player_ids)
    metrics_refresh(player_ids=ids, as_of=as_of)
    changes = segments_refresh(player_ids=ids)
    if ids is None:
        activity_days_refresh()
    return changes


# The chunks of the batch jobs (players/batch.py): each runs in its chunk's transaction over
# one id range of players and returns what the job adds up.


def metrics_refresh_chunk(*, job: BatchJob, player_ids: list[int]) -> int:
    """`metrics_refresh` job chunk: the players' metrics as of the job's instant. → rows."""
    return metrics_refresh(player_ids=player_ids, as_of=job_as_of(job))


def segments_refresh_chunk(*, job: BatchJob, player_ids: list[int]) -> int:
    """`segments_refresh` job chunk: re-segment the players. → segment changes."""
    return segments_refresh(player_ids=player_ids)


def players_refresh_chunk(*, job: BatchJob, player_ids: list[int]) -> int:
    """`players_refresh` job chunk (the nightly job): metrics, then segments. → changes."""
    return players_refresh(player_ids=player_ids, as_of=job_as_of(job))


def players_refresh_finish(*, job: BatchJob) -> None:
    """The end of a `players_refresh` job over everyone (the nightly one): rebuild the back
    office's daily roll-up once, like the single-process full refresh."""
    if job.player_ids is None:
        activity_days_refresh()


StatusListener = Callable[..., int]
_status_listeners: list[StatusListener] = []


def player_status_listener_register(listener: StatusListener) -> None:
    """Call `listener(player_ids=[...], by=user)` when players' statuses may have changed.

    Register in `AppConfig.ready()` of an app above `players` (the wallet forfeits the bonuses of
    players who left `active`, SPEC §7). Listeners run INSIDE the transaction that changed the
    statuses, so the consequence commits (or rolls back) with the change; each returns how many
    players it acted on. Registering the same function twice is a no-op.
    """
    if listener not in _status_listeners:
        _status_listeners.append(listener)


def player_statuses_changed(*, player_ids: Iterable[int], by=None) -> int:
    """Tell the registered listeners that these players' statuses may have changed.

    Returns the number of players the listeners acted on (e.g. whose bonuses were forfeited).
    """
    ids = _ids(player_ids)
    if not ids:
        return 0
    with transaction.atomic():
        return sum(listener(player_ids=ids, by=by) for listener in _status_listeners)


def player_status_set(*, player: Player, status: str, by=None) -> Player:
    """Change a player's status; leaving `active` forfeits their active bonuses at once (SPEC §7,
    through the listeners registered with `player_status_listener_register`)."""
    with transaction.atomic():
        player.status = status
        player.save(update_fields=["status"])
        player_statuses_changed(player_ids=[player.pk], by=by)
    return player


ACTIVITY_DAYS_KEPT = 90  # the longest range the back office dashboard offers


# Daily roll-ups of higher apps (rewards' per-rule rewards), rebuilt with ActivityDay over the
# same days: each is called `(since=, until=)` (the cut-off: the start of today) in the same
# transaction. Filled from AppConfig.ready().
_daily_rollups: list = []


def daily_rollup_register(refresh) -> None:
    """Rebuild `refresh(since=, until=)` whenever the dashboard's daily roll-up is rebuilt."""
    if refresh not in _daily_rollups:
        _daily_rollups.append(refresh)


@transaction.atomic
def activity_days_refresh(*, days: int = ACTIVITY_DAYS_KEPT, now: datetime | None = None) -> int:
    """Rebuild the daily roll-up (`ActivityDay`) of the last `days` complete calendar days
    (reporting time zone) from the activity tables, set-based: one grouped read
    (`players.selectors.daily_money`), one delete and one bulk insert of a row per (day,
    currency), then the roll-ups other apps registered (`daily_rollup_register`). Today is left
    to the live read; returns the rows written. Runs with the full refresh and after each
    import (which may bring history)."""
    now = now or timezone.now()
    today = days_back(1, now=now)[0]
    cut_off = day_start(today)
    since = cut_off - timedelta(days=days)
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    activity, bonus = daily_money(since=since, until=cut_off)
    for row in activity.union(bonus, all=True):
        totals = sums[(row["day"], row["code"])]
        totals[0] += row["ggr"] or 0
        totals[1] += row["bonus_cost"] or 0
    ActivityDay.objects.filter(day__gte=since.date()).delete()
    ActivityDay.objects.all().update(covered_until=cut_off)
    ActivityDay.objects.bulk_create(
        ActivityDay(
            day=day, currency_id=code, ggr=ggr, bonus_cost=bonus_cost, covered_until=cut_off
        )
        for (day, code), (ggr, bonus_cost) in sums.items()
    )
    for refresh in _daily_rollups:
        refresh(since=since, until=cut_off)
    log.info("activity_days_refreshed", days=days, rows=len(sums))
    return len(sums)
