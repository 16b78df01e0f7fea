"""Bonus lifecycle services: grant, conversion, forfeiture and expiry (SPEC §8).

State machine, forward-only (a trigger enforces it on PostgreSQL): pending → active →
completed | expired | forfeited | cancelled. A bonus's money lives in its own bonus account,
which is open exactly while the bonus is active; ending a bonus empties and closes it.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from config.audit import audit_record
from config.domain_events import domain_events_emit
from config.errors import DomainError
from players.models import BonusActivity, Player
from players.money import amount_validate, money_format
from wallet.guards import reward_guards_check
from wallet.ledger import (
    Leg,
    amount_in_player_currency,
    cash_account_id,
    house_account_id,
    ledger_post,
)
from wallet.locks import player_accounts_lock
from wallet.models import Account, Bonus, LedgerTransaction
from wallet.wagering import DEFAULT_CONTRIBUTION_WEIGHTS, wagering_required

Kind = LedgerTransaction.Kind
END_EVENTS = {
    Bonus.Status.COMPLETED: "bonus.completed",
    Bonus.Status.EXPIRED: "bonus.expired",
    Bonus.Status.FORFEITED: "bonus.forfeited",
}


def _bonus_event(bonus: Bonus, player: Player, **extra) -> dict:
    """The `data` of a bonus.* domain event (docs/webhooks.md)."""
    currency = bonus.currency_id
    return {
        "bonus_id": bonus.pk,
        "player": player.external_id,
        "currency": currency,
        "amount": money_format(bonus.amount, currency),
        "status": bonus.status,
        "wagering_required": money_format(bonus.wagering_required, currency),
        "expires_at": bonus.expires_at.isoformat() if bonus.expires_at else None,
        **extra,
    }


def bonus_activity_record(
    *, player: Player, kind: str, amount: Decimal, currency: str, at: datetime | None = None
) -> BonusActivity:
    """Record bonus money granted, converted to cash or paid as a cash reward (feeds the
    `bonus_cost` and `bonus_to_deposit_ratio` metrics, SPEC §4), in the player's currency."""
    return BonusActivity.objects.create(
        player=player,
        kind=kind,
        player_amount=amount_in_player_currency(player=player, amount=amount, currency=currency),
        occurred_at=at or timezone.now(),
    )


def _weights_clean(weights: dict | None, *, default: dict | None = None) -> dict:
    if weights is None:
        return dict(default or {})
    clean = {}
    for name, weight in weights.items():
        try:
            value = Decimal(str(weight))
        except ArithmeticError:
            raise DomainError("invalid_terms", f"Weight of {name} is not a number.") from None
        if not value.is_finite() or value < 0 or value > 10:
            raise DomainError("invalid_terms", f"Weight of {name} must be between 0 and 10.")
        clean[str(name)] = str(value)
    return clean


# Grants staff make by hand (the admin's form, the API); a rule's grants are its decisions.
STAFF_SOURCES = frozenset({"admin", "api"})


def bonus_grant(
    *,
    player: Player,
    currency: str,
    amount: Decimal,
    wagering_multiplier: Decimal,
    idempotency_key: str,
    wagering_base: str = Bonus.WageringBase.BONUS,
    deposit_amount: Decimal = Decimal(0),
    contribution_weights: dict | None = None,
    game_weights: dict | None = None,
    max_bet: Decimal | None = None,
    expires_at: datetime | None = None,
    max_conversion: Decimal | None = None,
    reason: str = "",
    source: str = "manual",
    granted_by=None,
    kind: str = Bonus.Kind.BONUS,
) -> Bonus:
    """Grant a bonus with its terms copied on; a replayed idempotency key returns the first.

    Raises the reward guards' refusals (`player_blocked`, `bonus_not_allowed`, `risk_blocked`),
    `invalid_terms`, `invalid_amount`, `idempotency_conflict`.
    """
    replay = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if replay is not None:
        if replay.bonus_id is None:
            raise DomainError("idempotency_conflict", "That key was used for another operation.")
        return Bonus.objects.get(pk=replay.bonus_id)
    amount = amount_validate(amount, currency)
    deposit_amount = amount_validate(deposit_amount, currency, allow_zero=True)
    multiplier = Decimal(str(wagering_multiplier))
    if not multiplier.is_finite() or multiplier < 0 or multiplier > 1000:
        raise DomainError("invalid_terms", "Wagering multiplier must be between 0 and 1000.")
    if wagering_base not in Bonus.WageringBase.values:
        raise DomainError("invalid_terms", f"Unknown wagering base {wagering_base}.")
    if kind not in Bonus.Kind.values:
        raise DomainError("invalid_terms", f"Unknown bonus kind {kind}.")
    if wagering_base != Bonus.WageringBase.BONUS and deposit_amount <= 0:
        # without it the requirement would be 0 and the grant would convert to cash at once
        raise DomainError(
            "invalid_terms", f"Wagering base {wagering_base} needs a deposit amount above 0."
        )
    if max_bet is not None:
        max_bet = amount_validate(max_bet, currency)
    if max_conversion is not None:
        max_conversion = amount_validate(max_conversion, currency, allow_zero=True)
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("invalid_terms", "The bonus would expire before it starts.")
    weights = _weights_clean(contribution_weights, default=DEFAULT_CONTRIBUTION_WEIGHTS)
    game_weights = _weights_clean(game_weights)
    # The request is valid; now the player's state: eligibility (status, "no bonus" flag, risk
    # score) is safety's (wallet/guards.py). In this order a request that is invalid whatever
    # the wallet holds never consumes its Idempotency-Key (wallet/idempotency.py).
    reward_guards_check(player=player, operation="bonus")
    required = wagering_required(
        amount=amount, deposit_amount=deposit_amount, multiplier=multiplier, base=wagering_base
    )
    with transaction.atomic():
        bonus = Bonus.objects.create(
            player=player,
            currency_id=currency,
            kind=kind,
            amount=amount,
            wagering_multiplier=multiplier,
            wagering_base=wagering_base,
            deposit_amount=deposit_amount,
            wagering_required=required,
            contribution_weights=weights,
            game_weights=game_weights,
            max_bet=max_bet,
            max_conversion=max_conversion,
            expires_at=expires_at,
            reason=reason,
            source=source,
            granted_by=granted_by,
        )
        account = Account.objects.create(
            player=player, currency_id=currency, kind=Account.Kind.BONUS, bonus=bonus
        )
        expense = house_account_id(currency=currency, kind=Account.Kind.HOUSE_BONUS_EXPENSE)
        ledger_post(
            kind=Kind.BONUS_GRANT,
            idempotency_key=idempotency_key,
            player_id=player.pk,
            legs=[Leg(expense, currency, -amount), Leg(account.pk, currency, amount)],
            bonus=bonus,
            reason=reason,
            created_by=granted_by,
        )
        bonus_activity_record(
            player=player, kind=BonusActivity.Kind.GRANTED, amount=amount, currency=currency
        )
        if granted_by is not None or source in STAFF_SOURCES:
            audit_record(
                instance=bonus,
                action="create",
                by=granted_by,
                reason=reason,
                changes={
                    "status": [None, bonus.status],
                    "amount": [None, money_format(amount, currency)],
                    "currency": [None, currency],
                    "wagering_required": [None, money_format(required, currency)],
                    "source": [None, source],
                },
            )
        domain_events_emit(
            "bonus.granted", lambda: [_bonus_event(bonus, player, source=source, reason=reason)]
        )
        if required == 0:
            account.balance = amount
            bonus_end(
                bonus=bonus,
                account=account,
                status=Bonus.Status.COMPLETED,
                reason="no wagering required",
            )
    return bonus


def bonus_end(
    *,
    bonus: Bonus,
    account: Account,
    status: str,
    reason: str,
    by=None,
) -> LedgerTransaction:
    """End an active bonus whose account the caller holds locked (with its current balance).

    completed: the balance goes to cash up to `max_conversion`, the rest is forfeited;
    expired / forfeited / cancelled: the whole balance is forfeited.
    """
    currency = bonus.currency_id
    balance = account.balance
    to_cash = Decimal(0)
    if status == Bonus.Status.COMPLETED:
        to_cash = balance if bonus.max_conversion is None else min(balance, bonus.max_conversion)
    forfeit = house_account_id(currency=currency, kind=Account.Kind.HOUSE_BONUS_FORFEIT)
    legs = [Leg(account.pk, currency, -balance), Leg(forfeit, currency, balance - to_cash)]
    if to_cash:
        cash = cash_account_id(player_id=bonus.player_id, currency=currency)
        legs.append(Leg(cash, currency, to_cash))
    kind = {
        Bonus.Status.COMPLETED: Kind.BONUS_CONVERT,
        Bonus.Status.EXPIRED: Kind.BONUS_EXPIRE,
    }.get(status, Kind.BONUS_FORFEIT)
    now = timezone.now()
    ended = Bonus.objects.filter(pk=bonus.pk, status=Bonus.Status.ACTIVE).update(
        status=status, ended_at=now, end_reason=reason[:255], converted=to_cash
    )
    if not ended:
        raise DomainError("bonus_not_active", f"Bonus {bonus.pk} is not active.", status=409)
    Account.objects.filter(pk=account.pk).update(is_open=False)
    posted = ledger_post(
        kind=kind,
        idempotency_key=f"bonus:{bonus.pk}:end",
        player_id=bonus.player_id,
        legs=legs,
        bonus=bonus,
        reason=reason[:255],
        created_by=by,
        details={"to_cash": str(to_cash), "forfeited": str(balance - to_cash), "status": status},
    )
    if to_cash:
        bonus_activity_record(
            player=bonus.player,
            kind=BonusActivity.Kind.CONVERTED,
            amount=to_cash,
            currency=currency,
            at=now,
        )
    bonus.status, bonus.ended_at, bonus.end_reason = status, now, reason[:255]
    bonus.converted = to_cash
    if status in END_EVENTS:
        domain_events_emit(
            END_EVENTS[status],
            lambda: [
                _bonus_event(
                    bonus,
                    bonus.player,
                    converted=money_format(to_cash, currency),
                    forfeited=money_format(balance - to_cash, currency),
                    reason=reason[:255],
                )
            ],
        )
    return posted


def _bonuses_end_locked(
    *, player_id: int, currency: str, bonus_ids: set[int] | None, status: str, reason: str, by=None
) -> list[Bonus]:
    ended = []
    for account in player_accounts_lock(player_id=player_id, currency=currency):
        if account.kind != Account.Kind.BONUS:
            continue
        if bonus_ids is not None and account.bonus_id not in bonus_ids:
            continue
        bonus_end(bonus=account.bonus, account=account, status=status, reason=reason, by=by)
        ended.append(account.bonus)
    return ended


def bonus_forfeit(*, bonus: Bonus, reason: str, by=None) -> Bonus:
    """Forfeit one active bonus (staff or safety); the reason is mandatory."""
    if not reason or not reason.strip():
        raise DomainError("reason_required", "A reason is required to forfeit a bonus.")
    with transaction.atomic():
        ended = _bonuses_end_locked(
            player_id=bonus.player_id,
            currency=bonus.currency_id,
            bonus_ids={bonus.pk},
            status=Bonus.Status.FORFEITED,
            reason=reason.strip(),
            by=by,
        )
        if ended:
            audit_record(
                instance=ended[0],
                action="update",
                by=by,
                reason=reason.strip(),
                changes={"status": [Bonus.Status.ACTIVE, ended[0].status]},
            )
    if not ended:
        raise DomainError("bonus_not_active", f"Bonus {bonus.pk} is not active.", status=409)
    return ended[0]


def bonuses_forfeit_all(*, player: Player, reason: str, by=None) -> list[Bonus]:
    """Forfeit every active bonus of the player (self-exclusion, fraud block, chargeback)."""
    if not reason or not reason.strip():
        raise DomainError("reason_required", "A reason is required to forfeit bonuses.")
    currencies = (
        Bonus.objects.filter(player=player, status=Bonus.Status.ACTIVE)
        .values_list("currency_id", flat=True)
        .distinct()
    )
    ended: list[Bonus] = []
    with transaction.atomic():
        for currency in sorted(set(currencies)):
            ended += _bonuses_end_locked(
                player_id=player.pk,
                currency=currency,
                bonus_ids=None,
                status=Bonus.Status.FORFEITED,
                reason=reason.strip(),
                by=by,
            )
    return ended


def bonuses_forfeit_inactive_players(*, player_ids: Iterable[int], by=None) -> int:
    """Forfeit the active bonuses of those of these players who are no longer `active`.

    A status listener (wallet/apps.py): runs inside the transaction that changed the statuses.
    Loops only over excluded players who still hold a bonus (each forfeit is a ledger
    transaction); returns how many players lost bonuses.
    """
    holders = (
        Player.objects.filter(pk__in=list(player_ids), bonuses__status=Bonus.Status.ACTIVE)
        .exclude(status=Player.Status.ACTIVE)
        .distinct()
    )
    count = 0
    for player in holders.order_by("pk"):
        bonuses_forfeit_all(player=player, reason=f"player status {player.status}", by=by)
        count += 1
    return count


def bonuses_expire(*, now: datetime | None = None) -> int:
    """Expire every active bonus past its expiry (the hourly beat job); returns how many."""
    now = now or timezone.now()
    due = Bonus.objects.filter(status=Bonus.Status.ACTIVE, expires_at__lte=now).values_list(
        "pk", "player_id", "currency_id"
    )
    expired = 0
    for bonus_id, player_id, currency in list(due):
        with transaction.atomic():  # one bonus at a time: a long batch holds no player's locks
            expired += len(
                _bonuses_end_locked(
                    player_id=player_id,
                    currency=currency,
                    bonus_ids={bonus_id},
                    status=Bonus.Status.EXPIRED,
                    reason="expired",
                )
            )
    return expired
