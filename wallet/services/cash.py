"""Cash movements between the player and the bank: deposit, withdrawal, chargeback (SPEC §8)."""

from decimal import Decimal

from config.errors import DomainError
from players.models import Player
from players.money import amount_validate, money_format
from wallet.models import Account, Bonus, LedgerTransaction
from wallet.services.base import (
    Locked,
    cash_only_post,
    player_refuse_unless_active,
    wallet_operation,
)
from wallet.services.bonuses import bonus_end

Kind = LedgerTransaction.Kind


def _bonuses_forfeit_locked(locked: Locked, reason: str) -> list[int]:
    """End every open bonus of the locked accounts as forfeited; returns their ids."""
    for account in locked.bonuses:
        bonus_end(
            bonus=account.bonus, account=account, status=Bonus.Status.FORFEITED, reason=reason
        )
    return [account.bonus_id for account in locked.bonuses]


def _cash_short(balance: Decimal, currency: str) -> DomainError:
    return DomainError("insufficient_funds", f"Cash balance is {money_format(balance, currency)}.")


def _unexpected(outcome: str, _balance: Decimal) -> DomainError:
    raise AssertionError(f"wallet_cash_only_post answered {outcome} to a deposit")


def wallet_deposit(
    *, player: Player, currency: str, amount: Decimal, idempotency_key: str, activity=None
) -> LedgerTransaction:
    """Credit a deposit to the player's cash (the bank settlement account pays).

    Raises `player_blocked`, `invalid_amount`, `unknown_currency`, `idempotency_conflict`.
    """
    player_refuse_unless_active(player, "deposit")
    posted = cash_only_post(
        kind=Kind.DEPOSIT,
        player=player,
        currency=currency,
        amount=amount_validate(amount, currency),
        idempotency_key=idempotency_key,
        activity=activity,
        details={},
        refusal=_unexpected,
    )
    if posted is not None:
        return posted
    with wallet_operation(
        player=player, currency=currency, amount=amount, active_only="deposit"
    ) as operation:
        return operation.locked.cash_post(
            house=Account.Kind.HOUSE_BANK,
            amount=operation.amount,
            kind=Kind.DEPOSIT,
            idempotency_key=idempotency_key,
            activity=activity,
        )


def wallet_withdraw(
    *, player: Player, currency: str, amount: Decimal, idempotency_key: str, activity=None
) -> LedgerTransaction:
    """Pay out cash; active bonuses in that currency (wagering incomplete) are forfeited.

    The forfeited bonus ids are in the transaction's `details["forfeited_bonuses"]`.
    Raises `insufficient_funds`, `invalid_amount`, `unknown_currency`, `idempotency_conflict`.
    """
    posted = cash_only_post(
        kind=Kind.WITHDRAWAL,
        player=player,
        currency=currency,
        amount=amount_validate(amount, currency),
        idempotency_key=idempotency_key,
        activity=activity,
        details={"forfeited_bonuses": []},
        refusal=lambda _, balance: _cash_short(balance, currency),
    )
    if posted is not None:
        return posted
    with wallet_operation(player=player, currency=currency, amount=amount) as operation:
        locked, amount = operation.locked, operation.amount
        if locked.cash.balance < amount:
            raise _cash_short(locked.cash.balance, currency)
        forfeited = _bonuses_forfeit_locked(locked, "withdrawal before wagering was complete")
        return locked.cash_post(
            house=Account.Kind.HOUSE_BANK,
            amount=-amount,
            kind=Kind.WITHDRAWAL,
            idempotency_key=idempotency_key,
            activity=activity,
            details={"forfeited_bonuses": forfeited},
        )


def wallet_chargeback(
    *, player: Player, currency: str, amount: Decimal, idempotency_key: str, activity=None
) -> LedgerTransaction:
    """A deposit reversed by the payment provider: take back what cash holds (the shortfall is
    recorded in details, never a negative balance) and forfeit the player's active bonuses."""
    with wallet_operation(player=player, currency=currency, amount=amount) as operation:
        locked, amount = operation.locked, operation.amount
        _bonuses_forfeit_locked(locked, "chargeback")
        taken = min(amount, locked.cash.balance)
        return locked.cash_post(
            house=Account.Kind.HOUSE_BANK,
            amount=-taken,
            kind=Kind.CHARGEBACK,
            idempotency_key=idempotency_key,
            activity=activity,
            details={
                "taken": money_format(taken, currency),
                "shortfall": money_format(amount - taken, currency),
            },
        )
