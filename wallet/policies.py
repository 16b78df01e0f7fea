"""Balance policies as data (SPEC §8): which money a bet takes first and how a win comes back.

Read on every bet and win, so the rows are kept per process for `POLICY_CACHE_SECONDS`; saving
or deleting a `BalancePolicy` forgets them at once (wallet/apps.py). A currency without a row
has the defaults: `cash_first` and `proportional`.
"""

import time
from dataclasses import dataclass

from wallet.models import BalancePolicy

POLICY_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Policy:
    bet_order: str = BalancePolicy.BetOrder.CASH_FIRST
    win_split: str = BalancePolicy.WinSplit.PROPORTIONAL


DEFAULT = Policy()
_cache: dict[str, Policy] = {}
_loaded_at = [float("-inf")]


def balance_policies_forget(**_kwargs) -> None:
    """Drop the cached policies (a policy was saved or deleted, or a test rolled one back)."""
    _cache.clear()
    _loaded_at[0] = float("-inf")


def balance_policy(currency: str) -> Policy:
    """The policy of `currency` (one query per process per minute for all currencies)."""
    now = time.monotonic()
    if now - _loaded_at[0] > POLICY_CACHE_SECONDS:
        rows = BalancePolicy.objects.values_list("currency_id", "bet_order", "win_split")
        fresh = {code: Policy(bet_order, win_split) for code, bet_order, win_split in rows}
        _cache.clear()
        _cache.update(fresh)
        _loaded_at[0] = now
    return _cache.get(currency, DEFAULT)
