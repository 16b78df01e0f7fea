"""Custom segments (SPEC §5): staff-defined expressions; membership refreshed set-based.

A custom segment is every player for whom its expression (context "segment") is true. The
refresh runs per segment as two statements over all players in scope — DELETE the members
that no longer match, INSERT … SELECT the matches that are not members yet — so a refresh of
100,000 players is a handful of queries, never a loop per player.
"""

from collections.abc import Iterable

import structlog
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from players.models import Player
from rewards.expressions import ExpressionError, compile_expression
from rewards.models import CustomSegment, CustomSegmentMembership
from rewards.names import players_with_names

log = structlog.get_logger(__name__)


def custom_segment_validate(expression: str) -> None:
    """Raise ExpressionError (with positions and suggestions) unless `expression` is valid."""
    compile_expression(expression, context="segment")


def custom_segment_matches(segment: CustomSegment, *, player_ids: list[int] | None = None):
    """A queryset of the ids of the players the segment's expression matches."""
    expression = compile_expression(segment.expression, context="segment")
    players = Player.objects.all()
    if player_ids is not None:
        players = players.filter(pk__in=player_ids)
    players, resolve = players_with_names(players, expression.names)
    return players.filter(expression.to_django(resolve)).values("id")


def _refresh_one(segment: CustomSegment, player_ids: list[int] | None, now) -> tuple[int, int]:
    members = CustomSegmentMembership.objects.filter(segment=segment)
    if player_ids is not None:
        members = members.filter(player_id__in=player_ids)
    if not segment.active:
        removed, _ = members.delete()
        return 0, removed
    matching = custom_segment_matches(segment, player_ids=player_ids)
    removed, _ = members.filter(~Q(player_id__in=matching)).delete()
    select_sql, params = matching.query.sql_with_params()
    table = CustomSegmentMembership._meta.db_table
    with connection.cursor() as cursor:
        # `WHERE TRUE` keeps SQLite from reading ON CONFLICT as a join constraint.
        cursor.execute(
            f"INSERT INTO {table} (segment_id, player_id, since) "
            f"SELECT %s, matching.id, %s FROM ({select_sql}) AS matching WHERE TRUE "
            "ON CONFLICT (segment_id, player_id) DO NOTHING",
            [segment.pk, now, *params],
        )
        added = cursor.rowcount
    return added, removed


@transaction.atomic
def custom_segments_refresh(
    *, player_ids: Iterable[int] | None = None, segment_ids: Iterable[int] | None = None
) -> None:
    """Recompute custom-segment membership for these players (all when None), set-based."""
    ids = None if player_ids is None else list(player_ids)
    if ids == []:
        return
    segments = CustomSegment.objects.order_by("pk")
    if segment_ids is not None:
        segments = segments.filter(pk__in=list(segment_ids))
    now = timezone.now()
    for segment in segments:
        try:
            added, removed = _refresh_one(segment, ids, now)
        except ExpressionError as exc:  # e.g. a metric was renamed since the segment was saved
            log.warning("custom_segment_invalid", segment=segment.name, error=exc.message)
            continue
        log.info("custom_segment_refreshed", segment=segment.name, added=added, removed=removed)


@transaction.atomic
def custom_segment_save(
    *,
    segment: CustomSegment | None = None,
    name: str,
    expression: str,
    description: str = "",
    active: bool = True,
) -> CustomSegment:
    """Create or update a custom segment (expression validated) and refresh its members."""
    custom_segment_validate(expression)
    segment = segment or CustomSegment()
    segment.name = name
    segment.expression = expression
    segment.description = description
    segment.active = active
    segment.save()
    custom_segments_refresh(segment_ids=[segment.pk])
    return segment
