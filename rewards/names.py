"""The names expressions may use about players and events, and their binding to player data.

Registered with the expression language in `RewardsConfig.ready()` (`names_register`): the
`<metric>_<window>` names come from `players.metrics.METRICS × WINDOWS`, the player attributes
and event fields from the players app's models. `players_with_names` binds them to a queryset:
it joins PlayerMetrics once per window that the names need (a FilteredRelation on `metrics`
restricted to that window), so evaluating an expression over every player is one query. A
player with no metrics row reads money and count metrics as 0 and the others (ratios, days) as
missing — the same as a freshly refreshed empty row.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from players.metrics import windowed_names
from players.models import Activity, GameCategory, Player, PlayerMetrics, Segment
from rewards.expressions.catalogue import NUMBER, STRING, NameInfo, names_provider_register


def names_register() -> None:
    """Give the expression language the metric, player and event names (idempotent)."""
    names_provider_register("metric", _metric_names)
    names_provider_register("player", _player_names)
    names_provider_register("event", _event_names)


_METRIC_EXAMPLES = {"money": "{name} >= 100", "count": "{name} >= 3", "ratio": "{name} < 0.9"}


def _metric_names() -> dict[str, NameInfo]:
    names = {}
    for name, (metric, window) in windowed_names().items():
        span = "all time" if window == "lifetime" else f"the last {window}"
        missing = " May be missing." if metric.nullable else ""
        example = _METRIC_EXAMPLES.get(metric.kind, "{name} <= 7").format(name=name)
        names[name] = NameInfo(
            name,
            NUMBER,
            metric.nullable,
            f"{metric.description.rstrip('.')} ({metric.kind}, {span}).{missing}",
            "metric",
            example=example,
        )
    return names


def _player_names() -> dict[str, NameInfo]:
    statuses = tuple(Player.Status.values)
    return {
        info.name: info
        for info in (
            NameInfo(
                "segment",
                STRING,
                False,
                "The player's lifecycle segment.",
                "player",
                tuple(Segment.values),
                'segment in ["losing", "breakeven"]',
            ),
            NameInfo(
                "status",
                STRING,
                False,
                "The player's account status.",
                "player",
                statuses,
                'status == "active"',
            ),
            NameInfo(
                "country",
                STRING,
                True,
                "ISO 3166-1 alpha-2 country code; missing when unknown.",
                "player",
                example='country in ["DE", "AT"]',
            ),
            NameInfo(
                "currency",
                STRING,
                False,
                "The player's primary currency code.",
                "player",
                example='currency == "EUR"',
            ),
            NameInfo(
                "risk_score",
                NUMBER,
                False,
                "Risk score 0–100 from fraud detection.",
                "player",
                example="risk_score < 50",
            ),
            NameInfo(
                "days_since_registration",
                NUMBER,
                True,
                "Whole days since registration (as of the last metrics refresh).",
                "player",
                example="days_since_registration <= 30",
            ),
        )
    }


def _event_names() -> dict[str, NameInfo]:
    return {
        info.name: info
        for info in (
            NameInfo(
                "event.amount",
                NUMBER,
                False,
                "The event's amount, in the player's primary currency.",
                "event",
                example="event.amount >= 20",
            ),
            NameInfo(
                "event.type",
                STRING,
                False,
                "The event type.",
                "event",
                tuple(Activity.Type.values),
                'event.type == "deposit"',
            ),
            NameInfo(
                "event.game_category",
                STRING,
                True,
                "The game category of a bet or win; missing otherwise.",
                "event",
                tuple(GameCategory.values),
                'event.game_category == "slots"',
            ),
            NameInfo(
                "event.currency",
                STRING,
                False,
                "The currency the event was made in.",
                "event",
                example='event.currency == "EUR"',
            ),
        )
    }


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
    unknown = needed - set(metrics) - set(_player_names())
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
