"""Reads of the safety app: house edges, players' game mix, flags. Set-based, one query each."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Case, CharField, Count, F, Min, QuerySet, Sum, Value, When

from players.models import Activity
from safety.defaults import DEFAULT_HOUSE_EDGES
from safety.models import FraudFlag, HouseEdge

GameMix = dict[tuple[str, str] | str, Decimal]


def house_edges() -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(edge per category, edge per game id): the staff-edited rows over the documented
    defaults (safety/defaults.py). A game's row beats its category's (SPEC §7)."""
    categories = dict(DEFAULT_HOUSE_EDGES)
    games: dict[str, Decimal] = {}
    for category, game_id, edge in HouseEdge.objects.values_list(
        "game_category", "game_id", "edge"
    ):
        if game_id:
            games[game_id] = edge
        else:
            categories[category] = edge
    return categories, games


def scoped(queryset, *, player_ids: Iterable[int] | None, since: datetime | None = None,
           field: str = "occurred_at"):  # fmt: skip
    """The queryset narrowed to these players (None: all) and to `field` ≥ since (None: ever)."""
    if player_ids is not None:
        queryset = queryset.filter(player_id__in=list(player_ids))
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gte": since})
    return queryset


def players_game_mix(
    *,
    player_ids: Iterable[int] | None,
    since: datetime | None,
    until: datetime | None = None,
    games: Iterable[str] = (),
) -> dict[int, GameMix]:
    """Each player's stakes per game category over [since, until), in the player's currency.

    One grouped SQL statement for all the players (None: every player), no loop per player.
    Games named in `games` (those with an edge or a contribution override) are kept apart under
    the key (category, game_id); all other stakes under the category name. Players without bets
    are absent. Rolled-back bets are counted (a rollback is rare and does not change the mix).
    """
    bets = scoped(
        Activity.objects.filter(type=Activity.Type.BET), player_ids=player_ids, since=since
    )
    if until is not None:
        bets = bets.filter(occurred_at__lt=until)
    games = sorted(set(games))
    game = (
        Case(
            When(game_id__in=games, then=F("game_id")), default=Value(""), output_field=CharField()
        )
        if games
        else Value("", output_field=CharField())
    )
    rows = (
        bets.annotate(game=game)
        .values_list("player_id", "game_category", "game")
        .annotate(stakes=Sum("player_amount"))
        .order_by()
    )
    mix: dict[int, GameMix] = defaultdict(dict)
    for player_id, category, game_id, stakes in rows:
        category = category or "other"
        key = (category, game_id) if game_id else category
        mix[player_id][key] = mix[player_id].get(key, Decimal(0)) + Decimal(stakes)
    return dict(mix)


def flags_filtered(
    *, player: str | None = None, signal: str | None = None, status: str | None = None
) -> QuerySet[FraudFlag]:
    """Flags newest first, filtered by player external id, signal and status (`GET fraud/flags/`)."""
    flags = FraudFlag.objects.select_related("player").order_by("-created_at", "-pk")
    if player:
        flags = flags.filter(player__external_id=player)
    if signal:
        flags = flags.filter(signal=signal)
    if status:
        flags = flags.filter(status=status)
    return flags


def open_flags_by_signal() -> list[dict]:
    """Open fraud flags counted per signal, in one grouped query: `[{"signal": "shared_device",
    "open": 12, "oldest_at": datetime}, …]`, the most frequent signal first."""
    return list(
        FraudFlag.objects.filter(status=FraudFlag.Status.OPEN)
        .values("signal")
        .annotate(open=Count("pk"), oldest_at=Min("created_at"))
        .order_by("-open", "signal")
    )
