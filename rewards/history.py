"""What a chunk's limits read: the players' past rewards, the jurisdiction limits, budget
periods, and the id filter that scopes every chunk query to the chunk's players."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
from django.db.models import Q

from rewards.models import JurisdictionLimit, Reward, Rule


def players_in(player_ids: list[int], field: str = "pk") -> Q:
    """A filter for the chunk's players: an id range when the ids are dense (a chunk of an
    all-player run is a slice of every id, and a range scans the index without shipping 5,000
    parameters); callers drop rows of players outside the chunk."""
    low, high = min(player_ids), max(player_ids)
    if len(player_ids) > 100 and high - low + 1 <= 2 * len(player_ids):
        return Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return Q(**{f"{field}__in": player_ids})


def period_start(period: str, now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


@dataclass
class History:
    """What the players already received, for the per-player limits and jurisdictions."""

    rows: pd.DataFrame  # player_id, rule_id, created_at, amount
    welcomed: set[int]  # players with an acquisition reward (issued or waiting)


def history_load(*, player_ids: list[int], rules: list[Rule], now: datetime) -> History:
    """The players' live rewards of the rules with per-player limits or a cooldown (since the
    longest period's start), and who already has an acquisition reward (for SE)."""
    limited = [
        r
        for r in rules
        if (r.limits or {}).get("per_player") or (r.limits or {}).get("cooldown_days")
    ]
    live = (Reward.Status.ISSUED, Reward.Status.PENDING_REVIEW)
    rows = []
    if limited:
        since = now - timedelta(days=31)
        for rule in limited:
            cooldown = int((rule.limits or {}).get("cooldown_days") or 0)
            since = min(since, now - timedelta(days=cooldown))
        rows = list(
            Reward.objects.filter(
                players_in(player_ids, "player_id"),
                rule_id__in=[r.pk for r in limited],
                status__in=live,
                created_at__gte=since,
            ).values_list("player_id", "rule_id", "created_at", "amount")
        )
    welcomed = set()
    if any(r.acquisition for r in rules):
        welcomed = set(
            Reward.objects.filter(
                players_in(player_ids, "player_id"), rule__acquisition=True, status__in=live
            ).values_list("player_id", flat=True)
        )
    frame = pd.DataFrame.from_records(
        rows, columns=["player_id", "rule_id", "created_at", "amount"]
    )
    return History(rows=frame, welcomed=welcomed)


def jurisdiction_limits() -> dict[str, dict[str, Decimal | None]]:
    limits: dict[str, dict] = defaultdict(dict)
    for row in JurisdictionLimit.objects.filter(active=True):
        limits[row.country][row.kind] = row.value
    return dict(limits)


@dataclass
class Budget:
    """What is left of a rule's budget this period, in the reporting currency."""

    remaining: Decimal
    budget_id: int | None = None
    spent: Decimal = Decimal(0)
