"""The wallet's services (SPEC §8): every function here changes money, in one transaction.

By what they do:
- `cash`: deposit, withdrawal, chargeback — money between the player and the bank;
- `gaming`: bet, win, rollback of a bet, and the wagering progress they make;
- `bonuses`: grant, conversion, forfeiture and expiry of bonus money;
- `rewards`: cash rewards (cashback paid as cash) and staff adjustments;
- `base`: the opening every one of them shares (refuse, validate, atomic, lock).

Live events reach these through the one ingestion path (wallet/events.py); staff and the rules
engine call them directly. Each takes an idempotency key that is unique in the ledger.
"""

from wallet.services.bonuses import (
    bonus_end,
    bonus_forfeit,
    bonus_grant,
    bonuses_expire,
    bonuses_forfeit_all,
    bonuses_forfeit_inactive_players,
)
from wallet.services.cash import wallet_chargeback, wallet_deposit, wallet_withdraw
from wallet.services.gaming import (
    bets_referenced,
    wallet_bet_place,
    wallet_bet_rollback,
    wallet_bet_zero_check,
    wallet_win_settle,
)
from wallet.services.rewards import wallet_adjust, wallet_cash_reward_pay

__all__ = [
    "bets_referenced",
    "bonus_end",
    "bonus_forfeit",
    "bonus_grant",
    "bonuses_expire",
    "bonuses_forfeit_all",
    "bonuses_forfeit_inactive_players",
    "wallet_adjust",
    "wallet_bet_place",
    "wallet_bet_rollback",
    "wallet_bet_zero_check",
    "wallet_cash_reward_pay",
    "wallet_chargeback",
    "wallet_deposit",
    "wallet_win_settle",
    "wallet_withdraw",
]
