"""Risk score 0–100 per player from the open and confirmed flags (SPEC §7 step 3).

score = min(100, Σ over signals of the strongest counted flag of that signal), where a flag's
score is its signal's weight (`SignalWeight` rows, defaults in safety/defaults.py) × its
strength (1, or the cluster size factor). A signal counts once however many flags it raised
(ten refused max bets are one behaviour). Open and confirmed flags count; dismissed ones do not.

Thresholds (the `SafetyPolicy` row): ≥ review (50) → rewards wait in the review queue;
≥ block (80) → rewards are refused (eligibility) and, with `forfeit_on_block`, active bonuses
are forfeited at once.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db import transaction
from django.db.models import Max

from players.models import Player
from safety import defaults
from safety.models import FraudFlag, SafetyPolicy, SignalWeight
from wallet.models import Bonus
from wallet.services import bonuses_forfeit_all

COUNTED = (FraudFlag.Status.OPEN, FraudFlag.Status.CONFIRMED)
PASS, REVIEW, BLOCK = "passed", "review", "block"


def signal_weights() -> dict[str, int]:
    """Risk points per signal: staff-edited rows over the documented defaults."""
    weights = {signal: weight for signal, (weight, _) in defaults.SIGNAL_WEIGHTS.items()}
    weights.update(SignalWeight.objects.values_list("signal", "weight"))
    return weights


def flag_score(*, weight: int, strength: Decimal) -> int:
    """weight × strength, rounded half up, capped at 100."""
    score = (Decimal(weight) * Decimal(strength)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(min(Decimal(100), max(Decimal(0), score)))


def risk_scores_compute(*, player_ids: Iterable[int]) -> dict[int, int]:
    """The risk score each player's counted flags give now (one grouped query); 0 if none."""
    ids = list(player_ids)
    scores = dict.fromkeys(ids, 0)
    rows = (
        FraudFlag.objects.filter(player_id__in=ids, status__in=COUNTED)
        .values_list("player_id", "signal")
        .annotate(top=Max("score"))
        .order_by()
    )
    totals: dict[int, int] = defaultdict(int)
    for player_id, _signal, top in rows:
        totals[player_id] += top
    for player_id, total in totals.items():
        scores[player_id] = min(100, total)
    return scores


def player_risk_scores(player_ids: Iterable[int]) -> dict[int, int]:
    """The stored risk score of each player (what `GET players/{id}/` and the pipeline read)."""
    return dict(Player.objects.filter(pk__in=list(player_ids)).values_list("pk", "risk_score"))


def risk_decision(score: int, *, policy: SafetyPolicy | None = None) -> str:
    """`passed`, `review` (≥ review threshold) or `block` (≥ block threshold)."""
    policy = policy or SafetyPolicy.current()
    if score >= policy.block_threshold:
        return BLOCK
    if score >= policy.review_threshold:
        return REVIEW
    return PASS


def risk_decisions(scores: np.ndarray, *, policy: SafetyPolicy | None = None) -> np.ndarray:
    """Vectorised `risk_decision` for the rules pipeline's fraud step (a chunk of players):
    `risk_decisions(frame["risk_score"].to_numpy())` → array of passed / review / block."""
    policy = policy or SafetyPolicy.current()
    scores = np.asarray(scores, dtype=np.int64)
    out = np.full(len(scores), PASS, dtype=object)
    out[scores >= policy.review_threshold] = REVIEW
    out[scores >= policy.block_threshold] = BLOCK
    return out


@transaction.atomic
def risk_scores_refresh(*, player_ids: Iterable[int], by=None) -> dict[int, int]:
    """Store the current risk score of these players and act on the block threshold.

    Returns the players whose score changed → new score. Players at or above the block
    threshold lose their active bonuses when the policy says so (reason names the score).
    """
    ids = sorted(set(player_ids))
    if not ids:
        return {}
    scores = risk_scores_compute(player_ids=ids)
    stored = player_risk_scores(ids)
    changed = [Player(pk=p, risk_score=s) for p, s in scores.items() if stored.get(p) != s]
    Player.objects.bulk_update(changed, ["risk_score"], batch_size=1000)
    policy = SafetyPolicy.current()
    if policy.forfeit_on_block:
        blocked = [p for p, s in scores.items() if s >= policy.block_threshold]
        holders = (
            Player.objects.filter(pk__in=blocked, bonuses__status=Bonus.Status.ACTIVE)
            .distinct()
            .order_by("pk")
        )
        for player in holders:
            bonuses_forfeit_all(
                player=player,
                reason=f"risk score {scores[player.pk]} ≥ block threshold {policy.block_threshold}",
                by=by,
            )
    return {p.pk: p.risk_score for p in changed}
