"""Eligibility (SPEC §7 step 1): may this player be rewarded now, and if not, why.

One answer for every reward path. The rules pipeline asks `eligibility_refusal_codes` for a
whole chunk at once; the wallet asks `player_reward_refusal` through the reward guard that
`SafetyConfig.ready()` registers (`wallet.guards`), so a manual grant, a cash reward, an API or
admin grant and the approval of a reward queued before the player's status changed are all
refused the same way.

Refusal codes, in the order they are checked:
`blocked`, `self_excluded`, `closed` (the player's status), `no_bonus` (the per-player flag: no
promotional money of any kind — bonus, cashback, free spins or cash), `risk_blocked` (risk score
at or above the block threshold of the safety policy).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from config.errors import DomainError
from players.models import Player
from safety.models import SafetyPolicy

STATUS_CODES = ("blocked", "self_excluded", "closed")


@dataclass(frozen=True)
class Refusal:
    """Why a player may not be rewarded: a stable `code` (above) and a message for people."""

    code: str
    message: str
    details: dict = field(default_factory=dict)

    def as_error(self) -> DomainError:
        """The wallet's domain error: `player_blocked` (403) for a status, as before;
        `bonus_not_allowed` for the flag; `risk_blocked` (403) for the risk score."""
        if self.code in STATUS_CODES:
            return DomainError("player_blocked", self.message, details=self.details, status=403)
        if self.code == "no_bonus":
            return DomainError("bonus_not_allowed", self.message, details=self.details)
        return DomainError(self.code, self.message, details=self.details, status=403)


def _refusal(
    *, status: str, no_bonus: bool, risk_score: int, block_threshold: int
) -> Refusal | None:
    if status != Player.Status.ACTIVE:
        return Refusal(status, f"Player is {status}: no reward.", {"status": status})
    if no_bonus:
        return Refusal("no_bonus", "This player is flagged 'no bonus'.", {})
    if risk_score >= block_threshold:
        return Refusal(
            "risk_blocked",
            f"Risk score {risk_score} is at or above the block threshold {block_threshold}.",
            {"risk_score": risk_score, "block_threshold": block_threshold},
        )
    return None


def player_reward_refusal(
    player: Player, *, policy: SafetyPolicy | None = None, fresh: bool = True
) -> Refusal | None:
    """None when `player` may be rewarded now, else the `Refusal` saying why.

    `fresh` (default) re-reads status, flag and risk score from the database, so a caller holding
    an old copy of the player (a reward queued last week) sees today's status.
    """
    status, no_bonus, risk_score = player.status, player.no_bonus, player.risk_score
    if fresh and player.pk is not None:
        row = (
            Player.objects.filter(pk=player.pk)
            .values_list("status", "no_bonus", "risk_score")
            .first()
        )
        if row is not None:
            status, no_bonus, risk_score = row
    policy = policy or SafetyPolicy.current()
    return _refusal(
        status=status,
        no_bonus=no_bonus,
        risk_score=risk_score,
        block_threshold=policy.block_threshold,
    )


def players_reward_refusals(*, player_ids: Iterable[int]) -> dict[int, Refusal]:
    """The refusal of every ineligible player among these (one query); eligible ones are absent."""
    block = SafetyPolicy.current().block_threshold
    rows = Player.objects.filter(pk__in=list(player_ids)).values_list(
        "pk", "status", "no_bonus", "risk_score"
    )
    refusals = {}
    for pk, status, no_bonus, risk_score in rows:
        refusal = _refusal(
            status=status, no_bonus=no_bonus, risk_score=risk_score, block_threshold=block
        )
        if refusal is not None:
            refusals[pk] = refusal
    return refusals


def eligibility_refusal_codes(
    *,
    status: np.ndarray,
    no_bonus: np.ndarray,
    risk_score: np.ndarray,
    block_threshold: int | None = None,
) -> np.ndarray:
    """Vectorised `player_reward_refusal` over a chunk: the refusal code per row, "" if eligible.

    For the rules pipeline's frame: `eligibility_refusal_codes(status=frame["status"].to_numpy(),
    no_bonus=frame["_no_bonus"].to_numpy(), risk_score=frame["risk_score"].to_numpy())`.
    """
    if block_threshold is None:
        block_threshold = SafetyPolicy.current().block_threshold
    status = np.asarray(status, dtype=object)
    codes = np.full(len(status), "", dtype=object)
    inactive = status != Player.Status.ACTIVE
    codes[inactive] = status[inactive]
    flagged = ~inactive & np.asarray(no_bonus, dtype=bool)
    codes[flagged] = "no_bonus"
    risky = (codes == "") & (np.asarray(risk_score, dtype=np.int64) >= block_threshold)
    codes[risky] = "risk_blocked"
    return codes


def reward_guard(*, player: Player, operation: str) -> None:
    """The wallet's reward guard (registered in `SafetyConfig.ready()`): raises the refusal's
    DomainError (see `Refusal.as_error`) before any money moves."""
    refusal = player_reward_refusal(player)
    if refusal is not None:
        raise refusal.as_error()
