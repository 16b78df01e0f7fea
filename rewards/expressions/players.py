"""Binding expression names to player data: metrics per window and player attributes.

`players_with_names` joins PlayerMetrics once per window that the names need (a
FilteredRelation on `metrics` restricted to that window), so evaluating an expression over
every player is one query. A player with no metrics row reads money and count metrics as 0
and the others (ratios, days) as missing — the same as a freshly refreshed empty row.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from players.metrics import windowed_names
from players.models import PlayerMetrics
from rewards.expressions.catalogue import player_names


def _window_alias(window: str) -> str:
    return f"expr_metrics_{window}"


def _value_alias(name: str) -> str:
    return f"expr_{name}"


PLAYER_COLUMNS = {
    "segment": lambda: F("segment"),
    "status": lambda: F("status"),
    "country": lambda: NullIf(F("country"), Value("")),
    "currency": lambda: F("currency_id"),
    "risk_score": lambda: F("risk_score"),
}


def players_with_names(queryset: QuerySet, names: Iterable[str]):
    """`(queryset, resolve)`: the queryset joined to what `names` need, and name → expression."""
    metrics = windowed_names()
    needed = set(names)
    windows = {metrics[n][1] for n in needed if n in metrics}
    if "days_since_registration" in needed:
        windows.add("lifetime")
    unknown = needed - set(metrics) - set(player_names())
    if unknown:
        raise ValueError(f"names not available for players: {sorted(unknown)}")
    relations = {
        _window_alias(w): FilteredRelation("metrics", condition=Q(metrics__window=w))
        for w in sorted(windows)
    }
    if relations:
        queryset = queryset.annotate(**relations)

    def resolve(name: str):
        if name in PLAYER_COLUMNS:
            return PLAYER_COLUMNS[name]()
        if name == "days_since_registration":
            return F(f"{_window_alias('lifetime')}__days_since_registration")
        metric, window = metrics[name]
        column = F(f"{_window_alias(window)}__{metric.name}")
        if metric.nullable:
            return column
        model_field = PlayerMetrics._meta.get_field(metric.name)
        zero = Decimal(0) if model_field.get_internal_type() == "DecimalField" else 0
        return Coalesce(column, Value(zero, output_field=model_field))

    return queryset, resolve


def players_values(queryset: QuerySet, names: Iterable[str]) -> list[dict]:
    """Each player's values of `names` as `{"id": …, name: value, …}` (one query)."""
    names = sorted(set(names))
    queryset, resolve = players_with_names(queryset, names)
    aliases = {_value_alias(n): resolve(n) for n in names}
    rows = queryset.annotate(**aliases).values("id", *aliases)
    return [{"id": row["id"], **{name: row[_value_alias(name)] for name in names}} for row in rows]
