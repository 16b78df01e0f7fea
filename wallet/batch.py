"""Paying many rewards at once: cash rewards and bonus grants in a few bulk statements.

The rules engine issues thousands of rewards per run (SPEC §12: 100,000 players × 20 rules in
≤ 30 s); one `bonus_grant` / `wallet_cash_reward_pay` per reward costs ~8 round trips each.
`rewards_pay_batch` books the same rows those services book — a ledger transaction with a
unique idempotency key and balanced entries per reward (the deferred balance trigger and the
entry-insert balance trigger check and apply them exactly as for single postings), a bonus with
its terms and its own bonus account per grant, a `BonusActivity` row — in bulk:

    lock the players' cash accounts in pk order (one statement) → skip keys already posted →
    INSERT bonuses → INSERT bonus accounts → INSERT transactions → INSERT entries →
    INSERT bonus activity

Same refusals as the single services: the registered reward guards (wallet/guards.py: safety's
eligibility — status, the "no bonus" flag, the risk score) run for every payment, an invalid
amount is refused with `invalid_amount`. A grant whose wagering requirement is 0 (it converts at once) goes through
`bonus_grant` itself. The caller holds the atomic block.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from config.domain_events import domain_events_emit
from config.errors import DomainError
from players.models import BonusActivity, Player
from players.money import amount_validate
from wallet.guards import reward_guards_check
from wallet.ledger import amount_in_player_currency, house_account_id
from wallet.models import Account, Bonus, Entry, LedgerTransaction
from wallet.services.bonuses import _bonus_event, _weights_clean, bonus_grant
from wallet.wagering import DEFAULT_CONTRIBUTION_WEIGHTS, wagering_required


@dataclass
class RewardPayment:
    """One reward to pay: cash when `bonus_terms` is None, else a bonus grant with them.

    `bonus_terms` keys are `bonus_grant`'s keyword arguments (kind, wagering_multiplier,
    wagering_base, deposit_amount, contribution_weights, game_weights, max_bet, expires_at,
    max_conversion)."""

    player_id: int
    currency: str
    amount: Decimal
    idempotency_key: str
    reason: str = ""
    source: str = ""
    bonus_terms: dict | None = None
    # filled in by rewards_pay_batch
    bonus_row: Bonus | None = field(default=None, repr=False)
    transaction_id: int | None = None
    bonus_id: int | None = None
    error: DomainError | None = field(default=None, repr=False)


def rewards_pay_batch(payments: list[RewardPayment]) -> list[RewardPayment]:
    """Pay every payment (a replayed key pays nothing and reports the first posting); a refused
    one carries its `error` and books nothing. Returns the payments, filled in."""
    if not payments:
        return payments
    now = timezone.now()
    players = Player.objects.in_bulk({p.player_id for p in payments})
    replays = dict(
        (key, (pk, bonus_id))
        for key, pk, bonus_id in LedgerTransaction.objects.filter(
            idempotency_key__in=[p.idempotency_key for p in payments]
        ).values_list("idempotency_key", "pk", "bonus_id")
    )
    cash, grants, single = [], [], []
    for payment in payments:
        if payment.idempotency_key in replays:
            payment.transaction_id, payment.bonus_id = replays[payment.idempotency_key]
            continue
        player = players[payment.player_id]
        try:
            # eligibility (status, "no bonus" flag, risk score) is safety's, as for every reward
            operation = "reward" if payment.bonus_terms is None else "bonus"
            reward_guards_check(player=player, operation=operation)
            payment.amount = amount_validate(payment.amount, payment.currency)
            if payment.bonus_terms is None:
                cash.append(payment)
                continue
            if _required(payment) == 0:
                single.append(payment)
            else:
                payment.bonus_row = _bonus(payment)
                grants.append(payment)
        except DomainError as error:
            payment.error = error
    if cash or grants:
        _post(cash=cash, grants=grants, players=players, now=now)
    for payment in single:  # converts at once: the full single-grant path
        try:
            with transaction.atomic():
                bonus = bonus_grant(
                    player=players[payment.player_id],
                    currency=payment.currency,
                    amount=payment.amount,
                    idempotency_key=payment.idempotency_key,
                    reason=payment.reason,
                    source=payment.source,
                    **payment.bonus_terms,
                )
        except DomainError as error:
            payment.error = error
            continue
        payment.bonus_id = bonus.pk
        payment.transaction_id = (
            LedgerTransaction.objects.filter(idempotency_key=payment.idempotency_key)
            .values_list("pk", flat=True)
            .first()
        )
    return payments


def _required(payment: RewardPayment) -> Decimal:
    terms = payment.bonus_terms
    return wagering_required(
        amount=payment.amount,
        deposit_amount=terms.get("deposit_amount") or Decimal(0),
        multiplier=Decimal(str(terms.get("wagering_multiplier") or 0)),
        base=terms.get("wagering_base") or Bonus.WageringBase.BONUS,
    )


def _cash_accounts(cash: list[RewardPayment]) -> dict[tuple[int, str], int]:
    """The players' cash accounts (created if missing), locked in pk order."""
    wanted = {(p.player_id, p.currency) for p in cash}
    if not wanted:
        return {}
    Account.objects.bulk_create(
        [Account(player_id=pid, currency_id=cur, kind=Account.Kind.CASH) for pid, cur in wanted],
        ignore_conflicts=True,
    )
    rows = (
        Account.objects.filter(
            player_id__in={pid for pid, _ in wanted},
            currency_id__in={cur for _, cur in wanted},
            kind=Account.Kind.CASH,
        )
        .order_by("pk")
        .select_for_update()
        .values_list("player_id", "currency_id", "pk")
    )
    return {(pid, cur): pk for pid, cur, pk in rows}


def _post(*, cash, grants, players, now: datetime) -> None:
    currencies = {p.currency for p in cash} | {p.currency for p in grants}
    expense = {
        c: house_account_id(currency=c, kind=Account.Kind.HOUSE_BONUS_EXPENSE) for c in currencies
    }
    accounts = _cash_accounts(cash)
    bonuses = Bonus.objects.bulk_create([p.bonus_row for p in grants], batch_size=2000)
    bonus_accounts = Account.objects.bulk_create(
        [
            Account(player_id=b.player_id, currency_id=b.currency_id, kind="bonus", bonus=b)
            for b in bonuses
        ],
        batch_size=2000,
    )
    for payment, bonus in zip(grants, bonuses, strict=True):
        payment.bonus_id = bonus.pk
    rows = [
        LedgerTransaction(
            kind=LedgerTransaction.Kind.CASH_REWARD,
            idempotency_key=p.idempotency_key,
            player_id=p.player_id,
            reason=p.reason[:255],
            created_at=now,
        )
        for p in cash
    ] + [
        LedgerTransaction(
            kind=LedgerTransaction.Kind.BONUS_GRANT,
            idempotency_key=p.idempotency_key,
            player_id=p.player_id,
            bonus_id=p.bonus_id,
            reason=p.reason[:255],
            created_at=now,
        )
        for p in grants
    ]
    posted = LedgerTransaction.objects.bulk_create(rows, batch_size=2000)
    credit = [accounts[(p.player_id, p.currency)] for p in cash] + [a.pk for a in bonus_accounts]
    entries = []
    for payment, row, account_id in zip(cash + grants, posted, credit, strict=True):
        payment.transaction_id = row.pk
        entries.append(Entry(transaction_id=row.pk, account_id=expense[payment.currency],
                             amount=-payment.amount))  # fmt: skip
        entries.append(Entry(transaction_id=row.pk, account_id=account_id, amount=payment.amount))
    Entry.objects.bulk_create(entries, batch_size=4000)
    domain_events_emit(
        "bonus.granted",
        lambda: [
            _bonus_event(b, players[b.player_id], source=b.source, reason=b.reason) for b in bonuses
        ],
    )
    BonusActivity.objects.bulk_create(
        [
            BonusActivity(
                player_id=p.player_id,
                kind=BonusActivity.Kind.CASH_PAID if p.bonus_terms is None else "granted",
                player_amount=amount_in_player_currency(
                    player=players[p.player_id], amount=p.amount, currency=p.currency
                ),
                occurred_at=now,
            )
            for p in cash + grants
        ],
        batch_size=2000,
    )


def _bonus(payment: RewardPayment) -> Bonus:
    terms = payment.bonus_terms
    currency = payment.currency
    multiplier = Decimal(str(terms.get("wagering_multiplier") or 0))
    if not multiplier.is_finite() or multiplier < 0 or multiplier > 1000:
        raise DomainError("invalid_terms", "Wagering multiplier must be between 0 and 1000.")
    base = terms.get("wagering_base") or Bonus.WageringBase.BONUS
    if base not in Bonus.WageringBase.values:
        raise DomainError("invalid_terms", f"Unknown wagering base {base}.")
    kind = terms.get("kind") or Bonus.Kind.BONUS
    if kind not in Bonus.Kind.values:
        raise DomainError("invalid_terms", f"Unknown bonus kind {kind}.")
    if base != Bonus.WageringBase.BONUS and not terms.get("deposit_amount"):
        raise DomainError("invalid_terms", f"Wagering base {base} needs a deposit amount above 0.")
    max_bet = terms.get("max_bet")
    max_conversion = terms.get("max_conversion")
    return Bonus(
        player_id=payment.player_id,
        currency_id=currency,
        kind=kind,
        amount=payment.amount,
        wagering_multiplier=multiplier,
        wagering_base=base,
        deposit_amount=terms.get("deposit_amount") or Decimal(0),
        wagering_required=_required(payment),
        contribution_weights=_weights_clean(
            terms.get("contribution_weights"), default=DEFAULT_CONTRIBUTION_WEIGHTS
        ),
        game_weights=_weights_clean(terms.get("game_weights")),
        max_bet=None if max_bet is None else amount_validate(max_bet, currency),
        max_conversion=None
        if max_conversion is None
        else amount_validate(max_conversion, currency, allow_zero=True),
        expires_at=terms.get("expires_at"),
        reason=payment.reason[:255],
        source=payment.source[:64],
    )
