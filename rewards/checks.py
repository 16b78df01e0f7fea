"""The safety steps of the decision pipeline: eligibility, profit and fraud (SPEC §7).

Each check is vectorised over a chunk of players and answers a `Check`: which rows fail (with a
reason code), the JSON `details` fragment of each row, and for profit the expected house cost.
Eligibility is complete for the statuses and the "no bonus" flag; profit and fraud are
pass-throughs that record themselves — the safety issue replaces `profit_check` and
`fraud_check` (same signatures) with the formulas of SPEC §7.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from players.models import Player


@dataclass
class Check:
    """One step's answer for every row of the chunk (rows outside `mask` are ignored)."""

    failed: np.ndarray  # bool
    reason: np.ndarray  # object: reason code where failed
    details: np.ndarray  # object: the JSON text of the step's details
    review: np.ndarray | None = None  # bool: send to review (a passed step may ask for it)
    expected_cost: np.ndarray | None = None  # object: Decimal per row
    extra: dict = field(default_factory=dict)


def _empty(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n, dtype=bool), np.full(n, "", dtype=object)


def eligibility_check(*, rule, frame: pd.DataFrame, mask: np.ndarray) -> Check:
    """blocked / self_excluded / closed players and the per-player "no bonus" flag fail."""
    n = len(frame)
    failed, reason = _empty(n)
    status = frame["status"].to_numpy(dtype=object)
    inactive = status != Player.Status.ACTIVE
    failed |= inactive
    reason[inactive] = status[inactive]
    no_bonus = frame["_no_bonus"].to_numpy(dtype=bool) & ~failed
    failed |= no_bonus
    reason[no_bonus] = "no_bonus"
    details = np.full(n, "{}", dtype=object)
    details[failed] = '{"reason":"' + reason[failed] + '"}'
    return Check(failed=failed & mask, reason=reason, details=details)


def expected_cost_simple(*, rule, amounts: np.ndarray) -> np.ndarray:
    """The expected house cost before the safety issue's formula: the amount itself (cash:
    exactly; bonus: an upper bound, since wagering returns part of it — SPEC §7 max(0, B − W·X·h))."""
    return amounts.copy()


def profit_check(*, rule, frame: pd.DataFrame, mask: np.ndarray, amounts: np.ndarray) -> Check:
    """Pass-through: records the expected cost. The safety issue adds the NGR share limit."""
    n = len(frame)
    failed, reason = _empty(n)
    cost = expected_cost_simple(rule=rule, amounts=amounts)
    details = np.full(n, "{}", dtype=object)
    rows = np.flatnonzero(mask)
    details[rows] = [f'{{"expected_cost":"{_money(cost[i])}"}}' for i in rows]
    return Check(failed=failed, reason=reason, details=details, expected_cost=cost)


def fraud_check(*, rule, frame: pd.DataFrame, mask: np.ndarray) -> Check:
    """Pass-through: records the player's risk score. The safety issue adds the thresholds."""
    n = len(frame)
    failed, reason = _empty(n)
    scores = frame["risk_score"].to_numpy(dtype=np.int64)
    details = np.full(n, "{}", dtype=object)
    rows = np.flatnonzero(mask)
    details[rows] = [f'{{"risk_score":{scores[i]}}}' for i in rows]
    return Check(failed=failed, reason=reason, details=details)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"
