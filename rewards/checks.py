"""The safety steps of the decision pipeline: eligibility, profit and fraud (SPEC §7).

Each check is vectorised over a chunk of players and answers a `Check`: which rows fail (with a
reason code), the JSON `details` fragment of each row, and for profit the expected house cost.
The safety app computes them (safety/decisions.py); this module adapts its answers to the
pipeline's shape.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from safety import decisions


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
    """blocked / self_excluded / closed players and the per-player "no bonus" flag fail
    (safety/eligibility.py; the risk score is the fraud step's)."""
    return Check(**vars(decisions.eligibility_step(frame=frame, mask=mask)))


def profit_check(*, rule, frame: pd.DataFrame, mask: np.ndarray, amounts: np.ndarray) -> Check:
    """Expected house cost (SPEC §7: bonus max(0, B − W·X·h) with the player's game mix,
    cashback p·L, free spins count × value × (1 − h), cash the amount) and the max_cost_share
    limit of the player's NGR over the rule's lookback; acquisition rules are exempt."""
    return Check(**vars(decisions.profit_step(rule=rule, frame=frame, mask=mask, amounts=amounts)))


def fraud_check(*, rule, frame: pd.DataFrame, mask: np.ndarray) -> Check:
    """Risk score ≥ the block threshold fails (`risk_blocked`); ≥ the review threshold sends
    the reward to review (safety/scoring.py)."""
    return Check(**vars(decisions.fraud_step(frame=frame, mask=mask)))
