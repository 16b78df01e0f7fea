"""What each context may name, and of what type: generated from the metric catalogue.

`players.metrics.METRICS × WINDOWS` gives the `<metric>_<window>` names, so a new metric is
usable in expressions without touching this package. Player attributes and the event fields
are listed here once; import columns are supplied by the caller.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from players.metrics import WINDOWS, windowed_names
from players.models import Activity, GameCategory, Player, Segment

NUMBER, STRING, BOOLEAN, ANY = "number", "string", "boolean", "any"
TYPES = (NUMBER, STRING, BOOLEAN, ANY)


@dataclass(frozen=True)
class NameInfo:
    name: str
    type: str
    nullable: bool
    description: str
    group: str  # metric | player | event | column
    choices: tuple[str, ...] = ()
    example: str = ""


@dataclass(frozen=True)
class Context:
    name: str
    result: str  # the type the whole expression must have (ANY: no constraint)
    groups: tuple[str, ...]
    description: str


CONTEXTS: dict[str, Context] = {
    c.name: c
    for c in (
        Context("condition", BOOLEAN, ("metric", "player"), "A rule condition: true or false."),
        Context("amount", NUMBER, ("metric", "player"), "A reward amount formula: a number."),
        Context(
            "event_condition",
            BOOLEAN,
            ("metric", "player", "event"),
            "A condition of a rule triggered by an event; may use `event.*`.",
        ),
        Context(
            "event_amount",
            NUMBER,
            ("metric", "player", "event"),
            "An amount formula of a rule triggered by an event; may use `event.*`.",
        ),
        Context("segment", BOOLEAN, ("metric", "player"), "A custom segment: true or false."),
        Context(
            "import_field",
            ANY,
            ("column",),
            "A computed import field over the file's columns (backtick-quote odd names).",
        ),
    )
}

_METRIC_EXAMPLES = {"money": "{name} >= 100", "count": "{name} >= 3", "ratio": "{name} < 0.9"}


def metric_names() -> dict[str, NameInfo]:
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


def player_names() -> dict[str, NameInfo]:
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


def event_names() -> dict[str, NameInfo]:
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


def column_names(columns: Sequence[str] | Mapping[str, str]) -> dict[str, NameInfo]:
    """Import columns: a list of names (type decided by use) or a mapping name → type."""
    typed = dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns, ANY)
    return {
        name: NameInfo(name, kind, True, "An import column.", "column")
        for name, kind in typed.items()
    }


def catalogue(context: str, columns: Sequence[str] | Mapping[str, str] = ()) -> dict[str, NameInfo]:
    """Every name usable in `context`, with its type."""
    groups = CONTEXTS[context].groups
    names: dict[str, NameInfo] = {}
    if "metric" in groups:
        names.update(metric_names())
    if "player" in groups:
        names.update(player_names())
    if "event" in groups:
        names.update(event_names())
    if "column" in groups:
        names.update(column_names(columns))
    return names


def all_names() -> dict[str, NameInfo]:
    """Every name of every fixed group (for "only in …" hints and the reference page)."""
    return {**metric_names(), **player_names(), **event_names()}


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    min_args: int
    max_args: int
    signature: str
    description: str
    example: str


FUNCTIONS: dict[str, FunctionInfo] = {
    f.name: f
    for f in (
        FunctionInfo("min", 2, 20, "min(a, b, …)", "The smallest number.", "min(net_loss_7d, 100)"),
        FunctionInfo("max", 2, 20, "max(a, b, …)", "The largest number.", "max(deposits_30d, 0)"),
        FunctionInfo("abs", 1, 1, "abs(x)", "The absolute value.", "abs(player_net_30d)"),
        FunctionInfo(
            "round",
            1,
            2,
            "round(x, places=0)",
            "Rounds half away from zero to `places` (0–8, a whole number literal).",
            "round(net_loss_7d * 0.15, 2)",
        ),
        FunctionInfo(
            "floor", 1, 1, "floor(x)", "The largest whole number ≤ x.", "floor(avg_bet_30d)"
        ),
        FunctionInfo(
            "ceil", 1, 1, "ceil(x)", "The smallest whole number ≥ x.", "ceil(deposits_7d / 10)"
        ),
        FunctionInfo(
            "clamp",
            3,
            3,
            "clamp(x, low, high)",
            "x limited to [low, high]: min(max(x, low), high).",
            "clamp(net_loss_7d * 0.10, 5, 100)",
        ),
        FunctionInfo(
            "coalesce",
            2,
            20,
            "coalesce(a, b, …)",
            "The first argument that is not missing (all of one type).",
            "coalesce(rtp_30d, 1)",
        ),
    )
}
WINDOW_NAMES = WINDOWS
