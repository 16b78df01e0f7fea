"""What every money-moving wallet service does first: refuse, validate, open a transaction, lock.

`wallet_operation` is that opening, once: it refuses a player who may not do the operation,
validates the amount (players/money.py), opens `transaction.atomic()` and locks the player's
accounts in the currency (wallet/locks.py, primary-key order). The service then decides on the
locked balances and posts one ledger transaction.

Player status (ADR 0003): `blocked`, `self_excluded` and `closed` players may not deposit, bet
or receive bonuses or rewards; wins and rollbacks of bets already placed still settle, and
withdrawals, chargebacks, forfeits and staff adjustments are always allowed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from players.models import Player
from players.money import amount_validate
from wallet.ledger import Leg, cash_account_id, house_account_id, ledger_post
from wallet.locks import player_accounts_lock_with_house
from wallet.models import Account, Bonus, LedgerTransaction
from wallet.services.bonuses import bonus_end


@dataclass
class Locked:
    """The player's cash account and open bonus accounts (oldest grant first), locked."""

    cash: Account
    bonuses: list[Account] = field(default_factory=list)
    house: dict[str, int] = field(default_factory=dict)

    def house_id(self, kind: str) -> int:
        if kind not in self.house:
            self.house[kind] = house_account_id(currency=self.cash.currency_id, kind=kind)
        return self.house[kind]

    def bonus_account(self, bonus_id: int) -> Account | None:
        return next((a for a in self.bonuses if a.bonus_id == bonus_id), None)

    def cash_post(
        self, *, house: str, amount: Decimal, kind: str, idempotency_key: str, **fields
    ) -> LedgerTransaction:
        """Post `amount` from the house account of kind `house` to the player's cash (a
        negative amount goes from cash to the house account): the two-leg movements."""
        currency = self.cash.currency_id
        return ledger_post(
            kind=kind,
            idempotency_key=idempotency_key,
            player_id=self.cash.player_id,
            legs=[
                Leg(self.house_id(house), currency, -amount),
                Leg(self.cash.pk, currency, amount),
            ],
            **fields,
        )


def accounts_lock(*, player_id: int, currency: str) -> Locked:
    """Lock the player's accounts in `currency` (cash created on first use).

    A bonus past its expiry that the hourly job has not swept yet is expired here, unused.
    """
    accounts, house = player_accounts_lock_with_house(player_id=player_id, currency=currency)
    if not any(a.kind == Account.Kind.CASH for a in accounts):
        cash_account_id(player_id=player_id, currency=currency)
        accounts, house = player_accounts_lock_with_house(player_id=player_id, currency=currency)
    cash = next(a for a in accounts if a.kind == Account.Kind.CASH)
    bonuses = []
    now = timezone.now()
    for account in sorted(
        (a for a in accounts if a.kind == Account.Kind.BONUS), key=lambda a: a.bonus_id
    ):
        if account.bonus.expires_at is not None and account.bonus.expires_at <= now:
            bonus_end(
                bonus=account.bonus, account=account, status=Bonus.Status.EXPIRED, reason="expired"
            )
        else:
            bonuses.append(account)
    return Locked(cash=cash, bonuses=bonuses, house=house)


def player_refuse_unless_active(player: Player, operation: str) -> None:
    """DomainError `player_blocked` (403) unless the player's status is `active`."""
    if player.status != Player.Status.ACTIVE:
        raise DomainError(
            "player_blocked", f"Player is {player.status}: {operation} refused.", status=403
        )


# Whether an operation opens a savepoint of its own when its caller holds a transaction. The
# ingestion path (wallet/events.py) runs each event in a transaction or savepoint of its own and
# rolls all of it back on any refusal, so there the operation's savepoint is two round trips
# (SAVEPOINT, RELEASE) for nothing; every other caller keeps it, since it may catch a refusal
# and go on in the same transaction.
_own_savepoint: ContextVar[bool] = ContextVar("wallet_own_savepoint", default=True)


@contextmanager
def operations_in_callers_savepoint() -> Iterator[None]:
    """Inside this block wallet operations open no savepoint: the caller rolls back its own
    transaction or savepoint whenever an operation raises (a refusal included)."""
    token = _own_savepoint.set(False)
    try:
        yield
    finally:
        _own_savepoint.reset(token)


@dataclass
class Operation:
    locked: Locked
    amount: Decimal | None


@contextmanager
def wallet_operation(
    *,
    player: Player,
    currency: str,
    amount: Decimal | None = None,
    allow_zero: bool = False,
    active_only: str | None = None,
) -> Iterator[Operation]:
    """Open a wallet operation: yields the locked accounts and the validated amount.

    `active_only` names the operation for the `player_blocked` refusal (None: any status may).
    Raises `player_blocked`, `invalid_amount`, `unknown_currency` before anything is written.
    """
    if active_only is not None:
        player_refuse_unless_active(player, active_only)
    if amount is not None:
        amount = amount_validate(amount, currency, allow_zero=allow_zero)
    with transaction.atomic(savepoint=_own_savepoint.get()):
        yield Operation(locked=accounts_lock(player_id=player.pk, currency=currency), amount=amount)
