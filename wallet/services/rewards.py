"""Money staff and the rules engine put into (or take out of) a player's cash (SPEC §6, §8).

Bonus grants live in wallet/services/bonuses.py; here are the real-money ones: a cash reward
(cash, or cashback paid as cash) booked as bonus expense, and a staff adjustment.
"""

from decimal import Decimal

from config.audit import audit_record
from config.errors import DomainError
from players.models import BonusActivity, Player
from players.money import money_format
from wallet.guards import reward_guards_check
from wallet.models import Account, LedgerTransaction
from wallet.services.base import wallet_operation
from wallet.services.bonuses import bonus_activity_record

Kind = LedgerTransaction.Kind


def wallet_adjust(
    *, player: Player, currency: str, amount: Decimal, reason: str, idempotency_key: str, by=None
) -> LedgerTransaction:
    """Staff correction of a player's cash (signed amount) against the adjustments account.

    Raises `reason_required`, `invalid_amount` (zero, too precise, over the ceiling),
    `insufficient_funds` (a debit larger than the cash balance).
    """
    if not reason or not reason.strip():
        raise DomainError("reason_required", "A reason is required for a manual adjustment.")
    signed = Decimal(amount)
    with wallet_operation(player=player, currency=currency, amount=abs(signed)) as operation:
        locked = operation.locked
        amount = operation.amount if signed > 0 else -operation.amount
        if locked.cash.balance + amount < 0:
            raise DomainError(
                "insufficient_funds",
                f"Cash balance is {money_format(locked.cash.balance, currency)}.",
            )
        posted = locked.cash_post(
            house=Account.Kind.HOUSE_ADJUSTMENT,
            amount=amount,
            kind=Kind.ADJUSTMENT,
            idempotency_key=idempotency_key,
            reason=reason.strip()[:255],
            created_by=by,
        )
        audit_record(
            instance=posted,
            action="create",
            by=by,
            reason=reason.strip(),
            changes={
                "kind": [None, Kind.ADJUSTMENT],
                "player": [None, player.external_id],
                "amount": [None, money_format(amount, currency)],
                "currency": [None, currency],
            },
        )
        return posted


def wallet_cash_reward_pay(
    *, player: Player, currency: str, amount: Decimal, reason: str, idempotency_key: str
) -> LedgerTransaction:
    """Pay a cash reward (e.g. cashback) to cash, booked as bonus expense.

    Raises the reward guards' refusals (`player_blocked`, `bonus_not_allowed`, `risk_blocked`),
    `invalid_amount`, `unknown_currency`, `idempotency_conflict`.
    """
    reward_guards_check(player=player, operation="reward")
    with wallet_operation(
        player=player, currency=currency, amount=amount, active_only="reward"
    ) as operation:
        amount = operation.amount
        posted = operation.locked.cash_post(
            house=Account.Kind.HOUSE_BONUS_EXPENSE,
            amount=amount,
            kind=Kind.CASH_REWARD,
            idempotency_key=idempotency_key,
            reason=reason[:255],
        )
        bonus_activity_record(
            player=player, kind=BonusActivity.Kind.CASH_PAID, amount=amount, currency=currency
        )
        return posted
