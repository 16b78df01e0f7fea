"""The metric catalogue (SPEC §4): every per-player metric, its kind and meaning.

This tuple is the single source of truth: the metrics table's columns, the refresh SQL's
output, the API's `metrics` object, the player filters and the expression language's names
(`net_loss_7d`, `deposits_30d`, …) are all derived from it.
"""

from dataclasses import dataclass
from typing import Literal

MetricKind = Literal["money", "count", "ratio", "days"]

WINDOWS: tuple[str, ...] = ("lifetime", "30d", "7d")
WINDOW_HOURS: dict[str, int | None] = {"lifetime": None, "30d": 30 * 24, "7d": 7 * 24}


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    description: str
    nullable: bool = False  # missing (null) when undefined, e.g. rtp without turnover


METRICS: tuple[Metric, ...] = (
    Metric("deposits", "money", "Sum of deposits minus chargebacks."),
    Metric("deposit_count", "count", "Number of deposits minus chargebacks."),
    Metric("withdrawals", "money", "Sum of withdrawals."),
    Metric("withdrawal_count", "count", "Number of withdrawals."),
    Metric("net_deposits", "money", "deposits − withdrawals."),
    Metric("turnover", "money", "Sum of bets minus rolled-back bets (stakes)."),
    Metric("bet_count", "count", "Number of bets not rolled back."),
    Metric("wins", "money", "Sum of wins."),
    Metric("ggr", "money", "turnover − wins: the house's gross gaming revenue."),
    Metric("bonus_cost", "money", "Bonus money converted to cash plus cash rewards paid."),
    Metric("ngr", "money", "ggr − bonus_cost."),
    Metric("player_net", "money", "wins − turnover (negative: the player is losing)."),
    Metric("net_loss", "money", "max(0, ggr)."),
    Metric("rtp", "ratio", "wins / turnover; missing when turnover is 0.", nullable=True),
    Metric(
        "avg_bet", "money", "turnover / bet_count; missing when there are no bets.", nullable=True
    ),
    Metric("active_days", "count", "Distinct calendar days with any bet."),
    Metric(
        "days_since_last_bet",
        "days",
        "Whole days since the last bet; missing if none.",
        nullable=True,
    ),
    Metric(
        "days_since_last_deposit",
        "days",
        "Whole days since the last deposit; missing if none.",
        nullable=True,
    ),
    Metric("days_since_registration", "days", "Whole days since registration."),
    Metric("bonus_granted", "money", "Bonus money granted."),
    Metric(
        "bonus_to_deposit_ratio",
        "ratio",
        "bonus_granted / deposits (abuse indicator); missing without deposits.",
        nullable=True,
    ),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
METRICS_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}


def windowed_name(metric: str, window: str) -> str:
    """The expression-language name of a metric in a window: `net_loss_7d`."""
    return f"{metric}_{window}"


def windowed_names() -> dict[str, tuple[Metric, str]]:
    """Every `<metric>_<window>` name with its metric and window."""
    return {windowed_name(m.name, w): (m, w) for m in METRICS for w in WINDOWS}
