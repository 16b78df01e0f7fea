"""A chunk of live events in one transaction, set-based where the wallet allows (issue 12).

`POST events/` takes up to 1,000 events; a PAM catching up after an outage sends them in full
batches. One by one, each event costs a transaction and 7–11 round trips; `chunk_apply` answers
a chunk inside one transaction (the caller's `atomic`) and the same way the one-by-one path does:

- an event whose receipt key is already stored is a replay: answered from the receipt (read for
  the whole chunk in one statement), nothing written — as the one-by-one path answers it after
  its insert fails on the UNIQUE key;
- the events of a *plain* player — known, `active`, every one of their events in the chunk a
  deposit, withdrawal, positive bet or a win naming its bet by `reference_id`, in the player's
  own currency, not a free round; no open bonus account in it, no free-spins grant, no
  remembered rollback, no named bet rolled back or staked with bonus money, no receipt key
  shared with another player's event in the chunk —
  are decided in Python on the cash balance read under one lock statement for all such
  players (pk order, as every wallet lock), in their order, and written with one bulk INSERT
  each for activities, ledger transactions, entries, receipts and fingerprints. The decisions
  are the services' own for these cases (no bonus money: the whole stake from cash, no
  wagering, no max bet, the whole win to cash; a withdrawal forfeits nothing): same outcomes,
  same refusal messages, same balances after each event;
- every other event takes the one-by-one path (`ingest_one`, a savepoint each inside the
  chunk's transaction), in order.

Players are independent (house accounts keep no cached balance), so deciding the plain players'
events before the others' changes no answer. The database checks the result exactly as for
single postings (entry balance trigger, non-negative balances, balanced transactions at commit).
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from config.errors import DomainError
from players.fingerprints import fingerprints_record
from players.models import Activity, EventReceipt, Player
from players.money import currency_quantum, money_format
from wallet.event_records import (
    APPLIED,
    REJECTED,
    EventInput,
    EventResult,
    Reason,
    activity_for,
    receipt_replay,
    source_is_promo,
)
from wallet.ledger import house_account_id
from wallet.metrics import operations_count
from wallet.models import Account, Bonus, Entry, LedgerTransaction, RememberedRollback
from wallet.selectors import balances_view
from wallet.wagering import win_split

log = structlog.get_logger(__name__)

PLAIN_TYPES = frozenset(
    {Activity.Type.DEPOSIT, Activity.Type.WITHDRAWAL, Activity.Type.BET, Activity.Type.WIN}
)
Kind = LedgerTransaction.Kind

LOCK_SQL = """
SELECT a.id, a.player_id, a.currency_id, a.kind, a.balance, a.is_open, b.kind
  FROM wallet_account a LEFT JOIN wallet_bonus b ON b.id = a.bonus_id
 WHERE a.player_id = ANY(%s) ORDER BY a.id FOR UPDATE OF a
"""


@dataclass(order=True)
class _Bet:
    """A bet a win may name: its ledger transaction (None for a zero stake) and cash stake."""

    transaction_id: int | None
    cash: Decimal
    currency: str


class _Wallet:
    """A plain player's accounts during the chunk: balances per currency and kind, moved as the
    chunk's events are decided."""

    def __init__(self, player_id: int, currency: str) -> None:
        self.player_id, self.currency = player_id, currency
        self.cash_account: int | None = None
        self.open_bonus = False
        self.plain = True
        # bets by (source, external id or reference they were placed under)
        self.bets: dict[tuple[str, str], list[_Bet]] = defaultdict(list)
        self.totals: dict[str, dict[str, Decimal]] = defaultdict(
            lambda: {"cash": Decimal(0), "bonus": Decimal(0)}
        )

    @property
    def cash(self) -> Decimal:
        held = self.totals.get(self.currency)  # no cash account yet: not in the balances
        return held["cash"] if held else Decimal(0)

    def move(self, amount: Decimal) -> None:
        self.totals[self.currency]["cash"] += amount

    def bet_known(self, *, source: str, names: set[str], bet: _Bet) -> None:
        for name in names - {""}:
            self.bets[source, name].append(bet)

    def bet_placed(self, event: EventInput, transaction_id: int, amount: Decimal) -> None:
        bet = _Bet(transaction_id, amount, self.currency)
        self.bet_known(source=event.source, names={event.external_id, event.reference_id}, bet=bet)


def _plain_candidate(event: EventInput) -> bool:
    if event.type == Activity.Type.WIN:  # a zero win settles a lost round; named by reference
        sized = event.amount >= 0 and bool(event.reference_id)
    else:
        sized = event.amount > 0
    return (
        event.type in PLAIN_TYPES
        and not source_is_promo(event.source)  # free rounds draw on free-spins grants
        and sized
        and event.amount <= settings.PITBOSS["MAX_AMOUNT"]
        and not event.rounds
    )


def chunk_apply(
    events: Sequence[EventInput], ingest_one: Callable[[EventInput], EventResult]
) -> list[EventResult]:
    """Answer `events` in order, inside the caller's transaction (see the module docstring).

    Returns one `EventResult` per event, as `ingest_one` would have answered them one after the
    other. Raises what the database raises (a deadlock, a concurrent duplicate's UNIQUE
    violation): the caller rolls the chunk back and runs it one by one.
    """
    keys = [event.receipt_key for event in events]
    receipts = {r.external_id: r for r in EventReceipt.objects.filter(external_id__in=set(keys))}
    results: list[EventResult | None] = [None] * len(events)
    for index, event in enumerate(events):
        receipt = receipts.get(event.receipt_key)
        if receipt is not None:
            results[index] = receipt_replay(receipt, event.payload_hash(), event.external_id)

    plain = _plain_wallets(events, results, keys) if connection.vendor == "postgresql" else {}
    if plain:
        _plain_apply(events, results, plain)
    for index, event in enumerate(events):
        if results[index] is None:
            results[index] = ingest_one(event)
    return results  # type: ignore[return-value]


def _plain_wallets(
    events: Sequence[EventInput], results: list, keys: list[str]
) -> dict[str, _Wallet]:
    """The plain players of the chunk (by external id), their accounts locked and read."""
    # a key sent twice in the chunk is a replay of its first answer: decided here only when
    # both are the same player's (else the order across players would matter)
    senders: dict[str, set[str]] = defaultdict(set)
    for event in events:
        senders[event.receipt_key].add(event.player_id)
    shared = {key for key, count in Counter(keys).items() if count > 1 and len(senders[key]) > 1}
    pending = [e for i, e in enumerate(events) if results[i] is None]
    players = {
        external_id: (pk, currency, status)
        for external_id, pk, currency, status in Player.objects.filter(
            external_id__in={e.player_id for e in pending}
        ).values_list("external_id", "pk", "currency_id", "status")
    }
    refused: set[str] = set()
    for event in pending:
        known = players.get(event.player_id)
        if (
            known is None
            or known[2] != Player.Status.ACTIVE
            or known[1] != event.currency.code
            or event.receipt_key in shared
            or not _plain_candidate(event)
        ):
            refused.add(event.player_id)
    wallets = {
        external_id: _Wallet(players[external_id][0], players[external_id][1])
        for external_id in {e.player_id for e in pending} - refused
    }
    by_pk = {w.player_id: w for w in wallets.values()}
    # Every known player's accounts are locked here, in one pk-ordered statement, the ones of
    # players whose events go one by one too: the chunk holds its locks to the end, so a lock
    # taken later, by an event going one by one, could be below one already held and deadlock
    # with whoever locks several players in pk order (reward payouts, wallet/batch.py).
    # (A chunk of one-by-one events alone would hold its players' locks in arrival order.)
    known = sorted({players[e.player_id][0] for e in pending if e.player_id in players})
    if len(known) > 1 or (known and wallets):
        with connection.cursor() as cursor:
            cursor.execute(LOCK_SQL, [known])
            rows = cursor.fetchall()
    else:
        rows = []
    if not wallets:
        return {}
    for _pk, player_id, currency, kind, balance, is_open, bonus_kind in rows:
        wallet = by_pk.get(player_id)
        if wallet is None:  # locked only: its events go one by one
            continue
        wallet.totals[currency][kind] += balance or Decimal(0)
        if bonus_kind == Bonus.Kind.FREE_SPINS:  # shown apart in the balances: one by one
            wallet.plain = False
        if currency == wallet.currency:
            if kind == Account.Kind.CASH:
                wallet.cash_account = _pk
            elif kind == Account.Kind.BONUS and is_open:
                wallet.open_bonus = True
    # a remembered rollback may refuse a bet (`bet_rolled_back`): those players go one by one
    remembered = set(
        RememberedRollback.objects.filter(player_id__in=list(by_pk)).values_list(
            "player_id", flat=True
        )
    )
    _bets_load(pending, wallets)
    return {
        external_id: wallet
        for external_id, wallet in wallets.items()
        if wallet.plain and not wallet.open_bonus and wallet.player_id not in remembered
    }


def _bets_load(pending: Sequence[EventInput], wallets: dict[str, _Wallet]) -> None:
    """The stored bets the chunk's wins name (services.bets_referenced, for all at once); a
    player with such a bet rolled back or staked with bonus money goes one by one."""
    names = {e.reference_id for e in pending if e.type == Activity.Type.WIN}
    players = {w.player_id: w for w in wallets.values()}
    if not names:
        return
    rows = list(
        Activity.objects.filter(player_id__in=list(players), type=Activity.Type.BET)
        .filter(Q(external_id__in=names) | Q(reference_id__in=names))
        .values_list("pk", "player_id", "source", "external_id", "reference_id", "currency_id")
    )
    postings = {
        activity_id: (pk, details)
        for pk, activity_id, details in LedgerTransaction.objects.filter(
            activity_id__in=[row[0] for row in rows], kind=Kind.BET
        ).values_list("pk", "activity_id", "details")
    }
    reversed_ids = set(
        LedgerTransaction.objects.filter(
            reverses_id__in=[pk for pk, _ in postings.values()]
        ).values_list("reverses_id", flat=True)
    )
    for activity_id, player_id, source, external_id, reference_id, currency in rows:
        wallet = players[player_id]
        pk, details = postings.get(activity_id, (None, {}))
        if pk in reversed_ids or details.get("bonus") or details.get("target") is not None:
            wallet.plain = False
        bet = _Bet(pk, Decimal(details.get("cash", "0")), currency)
        wallet.bet_known(source=source, names={external_id, reference_id}, bet=bet)


@dataclass
class _Decision:
    """One plain event decided: its receipt, and when applied its activity and posting."""

    index: int
    event: EventInput
    wallet: _Wallet
    receipt: EventReceipt
    activity: Activity | None = None
    posting: LedgerTransaction | None = None
    legs: list[tuple[int | _Wallet, Decimal]] = field(default_factory=list)


def _plain_apply(events: Sequence[EventInput], results: list, wallets: dict[str, _Wallet]):
    """Decide the plain players' events in order and write them in bulk."""
    now = timezone.now()
    house: dict[tuple[str, str], int] = {}

    def house_id(currency: str, kind: str) -> int:
        if (currency, kind) not in house:
            house[currency, kind] = house_account_id(currency=currency, kind=kind)
        return house[currency, kind]

    # transaction ids drawn up front, so that a win can name a bet of the same chunk
    with connection.cursor() as cursor:
        cursor.execute(TRANSACTION_IDS_SQL, [len(events)])
        transaction_ids = iter([pk for (pk,) in cursor.fetchall()])
    decided: list[_Decision] = []
    by_key: dict[str, EventReceipt] = {}
    fingerprints = []
    for index, event in enumerate(events):
        wallet = wallets.get(event.player_id)
        if wallet is None or results[index] is not None:
            continue
        first = by_key.get(event.receipt_key)
        if first is not None:  # sent twice in the chunk: the first answer, replayed
            results[index] = receipt_replay(first, event.payload_hash(), event.external_id)
            continue
        fingerprints += [(wallet.player_id, kind, value) for kind, value in event.fingerprints()]
        receipt = EventReceipt(external_id=event.receipt_key, payload_hash=event.payload_hash())
        by_key[event.receipt_key] = receipt
        decision = _Decision(index, event, wallet, receipt)
        decided.append(decision)
        try:
            kind, house_kind, to_cash, details = _plain_posting(event, wallet)
        except DomainError as refusal:
            receipt.status, receipt.reason_code = REJECTED, refusal.code
            receipt.reason_message, receipt.warnings = refusal.message[:255], []
            receipt.balances = balances_view(wallet.totals)
            log.info(  # named as `events._event_ingest` binds it: the player's external id
                "event_rejected",
                player=event.player_id,
                external_id=event.external_id,
                code=refusal.code,
            )
            continue
        decision.activity = activity_for(event, event.amount)
        decision.activity.player_id = wallet.player_id
        if kind is not None:  # a zero win moves nothing
            decision.posting = LedgerTransaction(
                pk=next(transaction_ids),
                kind=kind,
                idempotency_key=f"event:{event.source}:{event.external_id}",
                player_id=wallet.player_id,
                details=details,
                created_at=now,
            )
            decision.legs = [
                (house_id(wallet.currency, house_kind), -to_cash),
                (wallet, to_cash),
            ]
            wallet.move(to_cash)
            if kind == Kind.BET:
                wallet.bet_placed(event, decision.posting.pk, event.amount)
        receipt.status, receipt.warnings = APPLIED, []
        receipt.balances = balances_view(wallet.totals)
    _plain_write(decided)
    if fingerprints:
        fingerprints_record(rows=fingerprints)
    for decision in decided:
        receipt, activity = decision.receipt, decision.activity
        results[decision.index] = EventResult(
            decision.event.external_id,
            receipt.status,
            Reason(receipt.reason_code, receipt.reason_message) if receipt.reason_code else None,
            receipt.balances,
            (),
            activity_id=activity.pk if activity is not None else None,
            player_id=decision.wallet.player_id,
        )


def _plain_posting(event: EventInput, wallet: _Wallet) -> tuple:
    """(ledger kind, house account kind, amount to cash, details) of a plain event, decided as
    the services decide it with no bonus money; raises their refusals (DomainError).
    The kind is None for a zero win (applied, nothing posted)."""
    currency, amount = wallet.currency, event.amount
    if event.type == Activity.Type.DEPOSIT:
        return Kind.DEPOSIT, Account.Kind.HOUSE_BANK, amount, {}
    if event.type == Activity.Type.WITHDRAWAL:
        if wallet.cash < amount:
            raise DomainError(
                "insufficient_funds", f"Cash balance is {money_format(wallet.cash, currency)}."
            )
        return Kind.WITHDRAWAL, Account.Kind.HOUSE_BANK, -amount, {"forfeited_bonuses": []}
    if event.type == Activity.Type.BET:
        if wallet.cash < amount:
            raise DomainError(
                "insufficient_funds",
                f"Balance is {money_format(wallet.cash, currency)}, "
                f"stake {money_format(amount, currency)}.",
            )
        # no bonus money: the whole stake from cash, no wagering, no max bet
        details = {"cash": money_format(amount, currency), "bonus": {}, "wagering": {}}
        return Kind.BET, Account.Kind.HOUSE_GAME, -amount, details
    # a win on bets with no bonus part (services.bets_referenced, then wallet_win_settle)
    bets = wallet.bets.get((event.source, event.reference_id), [])
    if not bets:
        raise DomainError("unknown_reference", "No bet with that reference.")
    if any(bet.currency != event.currency.code for bet in bets):
        raise DomainError("currency_mismatch", "The bet was placed in another currency.")
    if not amount:
        return None, None, Decimal(0), {}
    live = sorted(bet for bet in bets if bet.transaction_id is not None)
    to_cash, _ = win_split(
        amount=amount,
        cash_stake=sum((bet.cash for bet in live), Decimal(0)),
        bonus_stakes={},
        quantum=currency_quantum(currency),
    )
    details = {
        "cash": money_format(to_cash, currency),
        "bonus": {},
        "bets": [bet.transaction_id for bet in live],
    }
    return Kind.WIN, Account.Kind.HOUSE_GAME, to_cash, details


def _plain_write(decided: list[_Decision]) -> None:
    """The decided events in one INSERT per table (the entry trigger moves the balances)."""
    applied = [d for d in decided if d.activity is not None]
    _cash_accounts_create(
        {d.wallet.player_id: d.wallet for d in applied if d.legs and d.wallet.cash_account is None}
    )
    Activity.objects.bulk_create([d.activity for d in applied])
    postings = [d for d in applied if d.posting is not None]
    for decision in postings:
        decision.posting.activity_id = decision.activity.pk
    LedgerTransaction.objects.bulk_create([d.posting for d in postings])
    # counted at commit as `ledger_post` counts each posting (pitboss_wallet_operations_total)
    for kind, count in Counter(d.posting.kind for d in postings).items():
        operations_count(kind, count)
    Entry.objects.bulk_create(
        [
            Entry(
                transaction_id=decision.posting.pk,
                account_id=account.cash_account if isinstance(account, _Wallet) else account,
                amount=amount,
            )
            for decision in postings
            for account, amount in decision.legs
        ]
    )
    for decision in decided:
        decision.receipt.activity = decision.activity
    EventReceipt.objects.bulk_create([d.receipt for d in decided])


TRANSACTION_IDS_SQL = """
SELECT nextval(pg_get_serial_sequence('wallet_ledgertransaction', 'id'))
  FROM generate_series(1, %s)
"""


class ChunkRetry(Exception):
    """Another transaction changed what the chunk decided on: run it one by one instead."""


CASH_CREATE_SQL = """
INSERT INTO wallet_account (player_id, currency_id, kind, balance, is_open, created_at)
SELECT player_id, currency_id, 'cash', 0, true, now()
  FROM unnest(%s::bigint[], %s::text[]) AS new(player_id, currency_id)
    ON CONFLICT DO NOTHING
RETURNING id, player_id
"""


def _cash_accounts_create(wallets: dict[int, _Wallet]) -> None:
    """The cash accounts of players whose first money this chunk moves (as `accounts_lock`
    creates them on first use). One that appeared since the lock read was made by another
    transaction, whose money the decisions did not see: `ChunkRetry`."""
    if not wallets:
        return
    with connection.cursor() as cursor:
        cursor.execute(CASH_CREATE_SQL, [list(wallets), [w.currency for w in wallets.values()]])
        created = cursor.fetchall()
    if len(created) != len(wallets):
        raise ChunkRetry("a cash account was created concurrently")
    for pk, player_id in created:
        wallets[player_id].cash_account = pk
