"""Reward guards: checks a higher app registers to refuse rewards before money moves (ADR 0008).

The wallet sits below `safety`, which owns eligibility (SPEC §7: status, the "no bonus" flag,
the risk score). `SafetyConfig.ready()` registers `safety.eligibility.reward_guard` here, and
every wallet service that pays a reward — `bonus_grant`, `wallet_cash_reward_pay` — calls
`reward_guards_check` first, so no path (rules, API, admin, approval) can skip it.
"""

from collections.abc import Callable

from config.errors import DomainError
from players.models import Player

RewardGuard = Callable[..., None]
_guards: list[RewardGuard] = []


def reward_guard_register(guard: RewardGuard) -> None:
    """Call `guard(player=..., operation=...)` before every reward; it raises a DomainError to
    refuse. Register in `AppConfig.ready()`; registering the same function twice is a no-op."""
    if guard not in _guards:
        _guards.append(guard)


def reward_guards_check(*, player: Player, operation: str) -> None:
    """Run the registered guards; without any, refuse players who are not `active` (the wallet's
    own rule, ADR 0003). Raises the guard's DomainError."""
    if not _guards and player.status != Player.Status.ACTIVE:
        raise DomainError(
            "player_blocked", f"Player is {player.status}: {operation} refused.", status=403
        )
    for guard in tuple(_guards):
        guard(player=player, operation=operation)
