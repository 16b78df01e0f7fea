"""What each context may name, and of what type: supplied by the apps that own the data.

The expression language knows no app. The names of the fixed groups — `metric`, `player`,
`event` — come from providers registered with `names_provider_register` (rewards/names.py
registers them from the players app's metric catalogue and models, in `AppConfig.ready()`), so
a new metric is usable in expressions without touching this package. Import columns are
supplied by the caller.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

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


def column_names(columns: Sequence[str] | Mapping[str, str]) -> dict[str, NameInfo]:
    """Import columns: a list of names (type decided by use) or a mapping name → type."""
    typed = dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns, ANY)
    return {
        name: NameInfo(name, kind, True, "An import column.", "column")
        for name, kind in typed.items()
    }


NamesProvider = Callable[[], Mapping[str, "NameInfo"]]
GROUPS = ("metric", "player", "event")
_providers: dict[str, list[NamesProvider]] = {group: [] for group in GROUPS}


def names_provider_register(group: str, provider: NamesProvider) -> None:
    """Add `provider()` (name → NameInfo) to the names of `group` (metric | player | event).

    Register in `AppConfig.ready()`; idempotent. A provider is called whenever an expression
    is compiled for the first time, so it should be cheap (build from in-memory catalogues).
    """
    if group not in _providers:
        raise ValueError(f"unknown name group {group!r}; one of {GROUPS}")
    if provider not in _providers[group]:
        _providers[group].append(provider)


def group_names(group: str) -> dict[str, NameInfo]:
    """Every registered name of one fixed group."""
    names: dict[str, NameInfo] = {}
    for provider in _providers[group]:
        names.update(provider())
    return names


def metric_names() -> dict[str, NameInfo]:
    return group_names("metric")


def player_names() -> dict[str, NameInfo]:
    return group_names("player")


def event_names() -> dict[str, NameInfo]:
    return group_names("event")


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
