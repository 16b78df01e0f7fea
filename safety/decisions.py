"""The safety steps of the rules pipeline, vectorised over a chunk (SPEC §7; rewards/pipeline.py).

Each step takes the pipeline's frame (one row per player: `_player_id`, `status`, `_no_bonus`,
`risk_score`, and `event.amount` for event triggers) and the mask of rows still alive, and
answers a `StepResult` whose fields are those of `rewards.checks.Check` — so the rules engine's
checks become one line each: `return Check(**vars(safety.decisions.profit_step(...)))`.

- `eligibility_step`: status and the "no bonus" flag (reason = the refusal code). The risk score
  is the fraud step's, so the trace names the right check (the wallet's guard still refuses
  `risk_blocked` at payment, whatever the caller).
- `profit_step`: the expected house cost (safety/costs.py) and the NGR-share limit; reason
  `profit_share`; details hold the formula's numbers and the limit.
- `fraud_step`: risk score ≥ block → failed (`risk_blocked`); ≥ review → passed with review.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from django.utils import timezone

from players.models import PlayerMetrics
from safety.costs import expected_cost_frame, profit_check_frame
from safety.eligibility import eligibility_refusal_codes
from safety.models import SafetyPolicy
from safety.scoring import BLOCK, REVIEW, risk_decisions

LOOKBACK_DAYS = {"7d": 7, "30d": 30, "lifetime": None}


@dataclass
class StepResult:
    """One step's answer for every row of the chunk (rows outside the mask are ignored)."""

    failed: np.ndarray  # bool
    reason: np.ndarray  # object: reason code where failed
    details: np.ndarray  # object: JSON text of the step's details
    review: np.ndarray | None = None  # bool: passed, but send to review
    expected_cost: np.ndarray | None = None  # object: Decimal per row
    extra: dict = field(default_factory=dict)


def _blank(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(n, dtype=bool), np.full(n, "", dtype=object), np.full(n, "{}", dtype=object)


def eligibility_step(*, frame: pd.DataFrame, mask: np.ndarray) -> StepResult:
    """blocked / self_excluded / closed / no_bonus fail, with `{"reason": code}` as details."""
    n = len(frame)
    failed, reason, details = _blank(n)
    codes = eligibility_refusal_codes(
        status=frame["status"].to_numpy(dtype=object),
        no_bonus=frame["_no_bonus"].to_numpy(dtype=bool),
        risk_score=np.zeros(n, dtype=np.int64),
        block_threshold=101,  # the risk score is the fraud step's
    )
    refused = mask & (codes != "")
    failed[refused] = True
    reason[refused] = codes[refused]
    details[refused] = ['{"reason": "' + code + '"}' for code in codes[refused]]
    return StepResult(failed=failed, reason=reason, details=details)


def lookback_start(lookback: str, now: datetime) -> datetime | None:
    """The start of a rule's lookback window (`7d`, `30d`, `lifetime` → None)."""
    days = LOOKBACK_DAYS.get(lookback or "30d", 30)
    return None if days is None else now - timedelta(days=days)


def players_ngr(*, player_ids, lookback: str) -> dict[int, Decimal]:
    """Each player's stored NGR over the lookback window (one query; absent → 0)."""
    window = lookback if lookback in LOOKBACK_DAYS else "30d"
    return dict(
        PlayerMetrics.objects.filter(player_id__in=list(player_ids), window=window).values_list(
            "player_id", "ngr"
        )
    )


def profit_step(
    *, rule, frame: pd.DataFrame, mask: np.ndarray, amounts: np.ndarray, now: datetime | None = None
) -> StepResult:
    """Expected cost per row (SPEC §7) and the max_cost_share limit over the rule's lookback.

    `rule` needs `reward_type`, `terms`, `free_spins`, `lookback`, `acquisition` and, optionally,
    `max_cost_share` (else the policy's). Rows outside the mask keep their amount as cost.
    """
    n = len(frame)
    failed, reason, details = _blank(n)
    expected = np.array(amounts, dtype=object).copy()
    rows = np.flatnonzero(mask)
    if not len(rows):
        return StepResult(failed=failed, reason=reason, details=details, expected_cost=expected)
    now = now or timezone.now()
    lookback = getattr(rule, "lookback", "30d") or "30d"
    ids = frame["_player_id"].to_numpy(dtype=np.int64)[rows].tolist()
    row_amounts = [Decimal(str(a)) for a in np.asarray(amounts, dtype=object)[rows]]
    deposits = None
    terms = getattr(rule, "terms", None) or {}
    if terms.get("wagering_base", "bonus") != "bonus" and "event.amount" in frame:
        deposits = [Decimal(str(v or 0)) for v in frame["event.amount"].to_numpy()[rows]]
    costs = expected_cost_frame(
        player_ids=ids, amounts=row_amounts, reward_type=rule.reward_type, terms=terms,
        free_spins=getattr(rule, "free_spins", None), deposit_amounts=deposits,
        since=lookback_start(lookback, now), until=now,
    )  # fmt: skip
    ngr = players_ngr(player_ids=ids, lookback=lookback)
    checked = profit_check_frame(
        costs=costs,
        ngr=[ngr.get(p, Decimal(0)) for p in ids],
        max_cost_share=getattr(rule, "max_cost_share", None),
        acquisition=bool(getattr(rule, "acquisition", False)),
    )
    passed = checked["passed"].to_numpy(dtype=bool)
    failed[rows] = ~passed
    reason[rows[~passed]] = "profit_share"
    details[rows] = [json.dumps(d, sort_keys=True) for d in checked["details"]]
    expected[rows] = list(checked["expected_cost"])
    return StepResult(failed=failed, reason=reason, details=details, expected_cost=expected)


def fraud_step(
    *, frame: pd.DataFrame, mask: np.ndarray, policy: SafetyPolicy | None = None
) -> StepResult:
    """Risk score ≥ block threshold → failed `risk_blocked`; ≥ review threshold → review.
    Details: `{"risk_score": 66, "decision": "review"}`."""
    n = len(frame)
    failed, reason, details = _blank(n)
    policy = policy or SafetyPolicy.current()
    scores = frame["risk_score"].to_numpy(dtype=np.int64)
    decisions = risk_decisions(scores, policy=policy)
    blocked = mask & (decisions == BLOCK)
    failed[blocked] = True
    reason[blocked] = "risk_blocked"
    review = mask & (decisions == REVIEW)
    rows = np.flatnonzero(mask)
    details[rows] = [f'{{"risk_score": {scores[i]}, "decision": "{decisions[i]}"}}' for i in rows]
    return StepResult(failed=failed, reason=reason, details=details, review=review)
