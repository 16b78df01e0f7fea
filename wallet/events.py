"""The one ingestion path for live events (SPEC §3, §8, §10): record, move money, answer, notify.

Every live event — from `POST events/`, the admin, the demo and the game aggregators'
adapters (wallet/aggregator/) — goes through `events_ingest`. Nothing else calls the wallet's
event dispatcher (`_money_move`).

Each event is one transaction (a savepoint when the caller already holds one, or inside its
batch's chunk: wallet/events_batch.py), in as few round trips as possible because the API
answers it while the caller waits (SPEC §12):
1. the player (created on first sight), the `Activity` row, the wallet movement and the
   `EventReceipt` with its final outcome and the balances after it, all at once;
2. a duplicate fails on a UNIQUE key (the activity's or the receipt's) — a concurrent one waits
   for the first to commit — so the transaction rolls back and the first answer is replayed
   (or `idempotency_conflict` when the payload differs);
3. a `DomainError` (insufficient funds, max bet, …) rolls everything back; a second transaction
   stores the `rejected` receipt (and the player). A rejected event moves no money, so a duplicate
   that slips in between is harmless: whichever receipt commits first is the answer.

After the caller's transaction commits, the applied events (never duplicates or rejected ones) are
handed to the listeners that apps registered with `event_listener_register` in their
`AppConfig.ready()` (ADR 0008): the metrics refresh queue today; event-triggered rules, per-event
fraud detectors and webhooks plug in the same way. A listener's failure is logged and never
undoes the event or keeps the other listeners from running.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import JSONField
from prometheus_client import Counter

from config import prepared
from config.deadlocks import deadlock_retrying
from config.errors import DomainError
from players.fingerprints import fingerprints_record
from players.models import Activity, EventReceipt, Player
from players.money import convert
from players.services import player_get_or_create
from wallet import services
from wallet.event_records import (
    APPLIED,
    REJECTED,
    EventInput,
    EventResult,
    activity_for,
    reason_or_none,
    receipt_replay,
    source_is_promo,
)
from wallet.events_batch import chunk_apply
from wallet.models import GameRound
from wallet.selectors import event_warnings, wallet_balances
from wallet.services.base import operations_in_callers_savepoint

log = structlog.get_logger(__name__)
EVENTS = Counter(
    "pitboss_events_total",
    "Live events by type and outcome (applied, duplicate, rejected) and rejection reason.",
    ["type", "status", "reason"],
)


@dataclass(frozen=True)
class NotifiedEvent:
    """The fields listeners hear about every event, applied or refused (after commit)."""

    player_id: int
    player_external_id: str
    external_id: str
    type: str
    amount: Decimal
    currency: str
    occurred_at: datetime
    game_id: str
    game_category: str


@dataclass(frozen=True, kw_only=True)
class AppliedEvent(NotifiedEvent):
    """What listeners receive for each applied event (after commit)."""

    activity_id: int
    round_id: str
    reference_id: str
    device_id: str = ""
    ip: str = ""
    payment_instrument: str = ""


@dataclass(frozen=True, kw_only=True)
class RefusedEvent(NotifiedEvent):
    """What refusal listeners receive for each event refused by a domain rule (after commit)."""

    reason_code: str


EventListener = Callable[[Sequence[AppliedEvent]], None]
_listeners: list[EventListener] = []


def event_listener_register(listener: EventListener) -> None:
    """Call `listener(applied_events)` after each ingestion's transaction commits.

    Register in `AppConfig.ready()`. The listener gets every applied event exactly once, in the
    order applied, and none that was a duplicate, rejected or rolled back with its caller's
    transaction. It runs in the request: keep it short (enqueue a Celery task for real work).
    Registering the same function twice is a no-op.
    """
    if listener not in _listeners:
        _listeners.append(listener)


def event_listeners() -> tuple[EventListener, ...]:
    return tuple(_listeners)


RefusalListener = Callable[[Sequence[RefusedEvent]], None]
_refusal_listeners: list[RefusalListener] = []


def event_refusal_listener_register(listener: RefusalListener) -> None:
    """Call `listener(refused_events)` after commit for the events a domain rule refused
    (max_bet_exceeded, insufficient_funds, player_blocked, …) — never duplicates, conflicts or
    invalid payloads. Same contract as `event_listener_register` otherwise (safety counts
    max-bet attempts with it)."""
    if listener not in _refusal_listeners:
        _refusal_listeners.append(listener)


def _listeners_notify(applied: Sequence, listeners: Sequence | None = None) -> None:
    for listener in tuple(_listeners if listeners is None else listeners):
        try:
            listener(applied)
        except Exception:  # a listener never undoes an event nor silences the others
            log.exception(
                "event_listener_failed",
                listener=f"{listener.__module__}.{listener.__qualname__}",
                events=len(applied),
            )


CHUNK_EVENTS = 1000  # events answered in one transaction (wallet/events_batch.py)


def events_ingest(*, events: Sequence[EventInput]) -> list[EventResult]:
    """Record events in order and notify listeners after commit.

    One event is its own transaction; several are answered in one transaction per chunk of
    `CHUNK_EVENTS` (wallet/events_batch.py), with the same answers as one by one: if the chunk
    fails as a whole (a deadlock with another batch, a concurrent duplicate, any error) it is
    rolled back and its events run again one transaction each.

    Returns one `EventResult` per event, in order. Never raises for an event's own problem
    (insufficient funds, duplicates, conflicts): those are results. Rejection reason codes:
    insufficient_funds | max_bet_exceeded | unknown_reference | currency_mismatch |
    player_blocked | invalid_amount | already_rolled_back | bet_settled | bet_rolled_back |
    round_closed (`EventInput.rounds`) | idempotency_conflict. A rollback whose bet has not arrived is applied (nothing moves) with
    the warning `rollback_before_bet`, and that bet is refused with `bet_rolled_back`.
    """
    results, applied, refused = [], [], []
    outcomes = []
    for start in range(0, len(events), CHUNK_EVENTS):
        outcomes += _chunk_ingest(events[start : start + CHUNK_EVENTS])
    for event, outcome in zip(events, outcomes, strict=True):
        EVENTS.labels(
            event.type, outcome.status, outcome.reason.code if outcome.reason else ""
        ).inc()
        results.append(outcome)
        if outcome.status == APPLIED:
            applied.append(_applied(event, outcome))
        elif outcome.status == REJECTED and outcome.player_id is not None:
            refused.append(_refused(event, outcome))
    if applied:
        transaction.on_commit(lambda: _listeners_notify(applied))
    if refused and _refusal_listeners:
        transaction.on_commit(lambda: _listeners_notify(refused, _refusal_listeners))
    return results


def _chunk_ingest(chunk: Sequence[EventInput]) -> list[EventResult]:
    if len(chunk) == 1:
        return [_event_ingest(chunk[0])]
    try:
        with transaction.atomic():
            return chunk_apply(chunk, _event_ingest)
    except Exception as error:  # noqa: BLE001 - one by one answers (or raises) as before
        log.warning("events_chunk_retried_one_by_one", events=len(chunk), error=repr(error))
        return [_event_ingest(event) for event in chunk]


def _notified(event: EventInput, outcome: EventResult) -> dict:
    """The `NotifiedEvent` fields of an event and its outcome."""
    return {
        "player_id": outcome.player_id,
        "player_external_id": event.player_id,
        "external_id": event.external_id,
        "type": event.type,
        "amount": event.amount,
        "currency": event.currency.code,
        "occurred_at": event.occurred_at,
        "game_id": event.game_id,
        "game_category": event.game_category,
    }


def _applied(event: EventInput, outcome: EventResult) -> AppliedEvent:
    return AppliedEvent(
        activity_id=outcome.activity_id,
        **_notified(event, outcome),
        round_id=event.round_id,
        reference_id=event.reference_id,
        device_id=event.device_id,
        ip=event.ip,
        payment_instrument=event.payment_instrument,
    )


def _refused(event: EventInput, outcome: EventResult) -> RefusedEvent:
    reason_code = outcome.reason.code if outcome.reason else ""
    return RefusedEvent(**_notified(event, outcome), reason_code=reason_code)


def _fingerprints_store(player: Player, event: EventInput) -> None:
    """Inside the event's transaction: the evidence commits with the event (or its refusal)."""
    pairs = event.fingerprints()
    if pairs:
        fingerprints_record(rows=[(player.pk, kind, value) for kind, value in pairs])


def _event_ingest(event: EventInput) -> EventResult:
    """One event in a transaction of its own (a savepoint inside a chunk or a caller's).

    An event in its own transaction that loses a deadlock is run again (config/deadlocks.py): a
    batch holds its players' locks before it inserts their activities, receipts and
    fingerprints, while an event inserts its activity before it locks, so a resend of a
    batched event still in flight can deadlock with it (ADR 0021). Nothing of the lost attempt
    stayed; inside a chunk or a caller's transaction the error goes up (the chunk runs again
    one by one).
    """
    # every log line about this event names its player (external id)
    with structlog.contextvars.bound_contextvars(player=event.player_id):
        return deadlock_retrying(
            lambda: _event_record(event), what="event", external_id=event.external_id
        )


def _event_record(event: EventInput) -> EventResult:
    payload_hash = event.payload_hash()
    receipt = EventReceipt(external_id=event.receipt_key, payload_hash=payload_hash)
    try:
        # a refusal rolls this whole block back: the wallet operation needs no savepoint of its own
        with transaction.atomic(), operations_in_callers_savepoint():
            player, activity = _player_and_activity(event)
            game_round = _round_check(event, activity)
            warnings = _money_move(activity)
            # after the money move, under the player's lock, as a batch stores them
            # (events_batch): stored before it, a concurrent batch holding that lock and
            # storing the same fingerprint would deadlock with this event
            _fingerprints_store(player, event)
            if game_round is not None and event.round_over and activity.type == Activity.Type.WIN:
                GameRound.objects.filter(pk=game_round.pk, ended_at=None).update(
                    ended_at=event.occurred_at
                )
            receipt.balances = wallet_balances(player=player)
            receipt.warnings = event_warnings(activity=activity) + warnings
            receipt.status, receipt.activity = APPLIED, activity
            _receipt_insert(receipt)
    except IntegrityError as error:
        return _replay_or_raise(event, payload_hash, error)
    except DomainError as error:
        # Nothing of the event stayed (the transaction rolled back): answer `rejected`, and
        # keep the player (events may precede the profile) and the receipt for replays.
        receipt.status, receipt.reason_code = REJECTED, error.code
        receipt.reason_message = error.message[:255]
        receipt.warnings = []
        log.info("event_rejected", external_id=event.external_id, code=error.code)
        try:
            with transaction.atomic():
                player = _player(event)
                _fingerprints_store(player, event)
                receipt.balances = wallet_balances(player=player)
                receipt.save(force_insert=True)
        except IntegrityError as conflict:
            return _replay_or_raise(event, payload_hash, conflict)
        return EventResult(
            event.external_id,
            REJECTED,
            reason_or_none(receipt.reason_code, receipt.reason_message),
            receipt.balances,
            player_id=player.pk,
        )
    return EventResult(
        event.external_id,
        APPLIED,
        None,
        receipt.balances,
        tuple(receipt.warnings),
        activity_id=activity.pk,
        player_id=player.pk,
    )


def _player(event: EventInput) -> Player:
    return player_get_or_create(
        external_id=event.player_id, currency=event.currency, registered_at=event.occurred_at
    )


def _player_and_activity(event: EventInput) -> tuple[Player, Activity]:
    """The event's player (created on first sight) and its new `Activity` row.

    On PostgreSQL the common case — a known player whose currency is the event's — is one
    statement that reads the player and inserts the activity; otherwise the ORM way.
    """
    if connection.vendor == "postgresql" and event.amount <= settings.PITBOSS["MAX_AMOUNT"]:
        found = _player_and_activity_sql(event)
        if found is not None:
            return found
    player = _player(event)
    return player, _activity_create(player=player, event=event)


_PLAYER_COLUMNS = [f.column for f in Player._meta.concrete_fields]
_PLAYER_ATTNAMES = [f.attname for f in Player._meta.concrete_fields]
_ACTIVITY_FIELDS = [f for f in Activity._meta.concrete_fields if not f.primary_key]
_PLAYER_AND_ACTIVITY_SQL = f"""
WITH p AS (
    SELECT {", ".join(f'"{column}"' for column in _PLAYER_COLUMNS)}
      FROM "{Player._meta.db_table}" WHERE "external_id" = %s
), a AS (
    INSERT INTO "{Activity._meta.db_table}" ({", ".join(f'"{f.column}"' for f in _ACTIVITY_FIELDS)})
    SELECT {", ".join("p.id" if f.attname == "player_id" else "%s" for f in _ACTIVITY_FIELDS)}
      FROM p WHERE p."currency_id" = %s
    RETURNING "id"
)
SELECT p.*, (SELECT "id" FROM a) FROM p
"""


def _insert_plan(fields: list, *, skip: str = "") -> tuple:
    """How `_insert_values` reads `fields` (all but `skip`): the attribute names in order, the
    `auto_now`/`auto_now_add` dates, and the positions and fields of the JSON values."""
    kept = [field for field in fields if field.attname != skip]
    dates = [f for f in kept if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    json = [(i, field) for i, field in enumerate(kept) if isinstance(field, JSONField)]
    return [field.attname for field in kept], dates, json


def _insert_values(instance, plan: tuple) -> list:
    """The values `save(force_insert=True)` would send for the fields of `plan` (PostgreSQL):
    `auto_now`/`auto_now_add` dates set as `pre_save` sets them, JSON adapted, every other
    value as it is — what `get_db_prep_save` returns for the str, int, Decimal and aware
    datetime values an event's rows hold, without its per-field call chain (a tenth of an
    event's Python calls). tests/api/test_events_fast_path.py compares the rows with the ORM's.
    """
    attnames, dates, json = plan
    for field in dates:
        field.pre_save(instance, True)
    attributes = instance.__dict__  # a new instance holds every concrete field's value there
    values = [attributes[attname] for attname in attnames]
    db = connections[DEFAULT_DB_ALIAS]
    for position, field in json:
        values[position] = field.get_db_prep_save(values[position], db)
    return values


_ACTIVITY_PLAN = _insert_plan(_ACTIVITY_FIELDS, skip="player_id")


def _player_and_activity_sql(event: EventInput) -> tuple[Player, Activity] | None:
    """None when the player is unknown or keeps another currency (nothing was written)."""
    # the player's currency is the event's (checked in SQL), so no conversion
    activity = activity_for(event, event.amount)
    values = _insert_values(activity, _ACTIVITY_PLAN)
    # a prepared statement: parsed and planned once per connection (config/prepared.py)
    rows = prepared.fetch(_PLAYER_AND_ACTIVITY_SQL, [event.player_id, *values, event.currency.code])
    row = rows[0] if rows else None
    if row is None or row[-1] is None:
        return None
    player = Player.from_db(DEFAULT_DB_ALIAS, _PLAYER_ATTNAMES, row[:-1])
    activity.pk, activity.player = row[-1], player
    activity._state.adding, activity._state.db = False, DEFAULT_DB_ALIAS
    return player, activity


_RECEIPT_FIELDS = [f for f in EventReceipt._meta.concrete_fields if not f.primary_key]
_RECEIPT_COLUMNS = ", ".join(f'"{f.column}"' for f in _RECEIPT_FIELDS)
_RECEIPT_PLAN = _insert_plan(_RECEIPT_FIELDS)
_RECEIPT_INSERT_SQL = (
    f'INSERT INTO "{EventReceipt._meta.db_table}" ({_RECEIPT_COLUMNS}) '
    f'VALUES ({", ".join("%s" for _ in _RECEIPT_FIELDS)}) RETURNING "id"'
)


def _receipt_insert(receipt: EventReceipt) -> None:
    """`receipt.save(force_insert=True)`, on PostgreSQL as a prepared statement: an applied
    event's receipt is written by every event, and compiling the ORM's INSERT was a tenth of
    an event's Python work (bench/request_work.py). No signal listens to receipts (the batch
    path bulk-creates them); a duplicate key raises Django's IntegrityError as `save` does."""
    if connection.vendor != "postgresql":
        receipt.save(force_insert=True)
        return
    values = _insert_values(receipt, _RECEIPT_PLAN)
    ((receipt.pk,),) = prepared.fetch(_RECEIPT_INSERT_SQL, values)
    receipt._state.adding, receipt._state.db = False, DEFAULT_DB_ALIAS


def _replay_or_raise(event: EventInput, payload_hash: str, error: IntegrityError) -> EventResult:
    """The answer to a duplicate: the event's receipt, committed by the transaction that won."""
    receipt = EventReceipt.objects.filter(external_id=event.receipt_key).first()
    if receipt is None:  # a conflict that is not a duplicate event: a real error
        raise error
    return receipt_replay(receipt, payload_hash, event.external_id)


def _activity_create(*, player: Player, event: EventInput) -> Activity:
    player_amount = convert(
        event.amount, source=event.currency.code, target=player.currency_id, at=event.occurred_at
    )
    if player_amount > settings.PITBOSS["MAX_AMOUNT"]:  # would also overflow NUMERIC(20, 8)
        raise DomainError(
            "invalid_amount",
            f"amount: {player_amount} {player.currency_id} is over the allowed maximum.",
        )
    activity = activity_for(event, player_amount, player)
    activity.save(force_insert=True)
    return activity


def _round_check(event: EventInput, activity: Activity) -> GameRound | None:
    """The event's round, for sources that report round ends (`EventInput.rounds`), locked.

    A bet opens its round (or joins it); a bet or win on a closed round is refused
    (`round_closed`), a rollback of a bet of a closed round too (`bet_settled`: the round
    was settled, even by a zero win that moved no money).
    """
    if not (event.rounds and activity.round_id):
        return None
    named = {
        "player_id": activity.player_id,
        "source": activity.source,
        "round_id": activity.round_id,
    }
    if activity.type == Activity.Type.BET:
        GameRound.objects.get_or_create(
            **named, defaults={"game_id": activity.game_id, "started_at": event.occurred_at}
        )
    found = GameRound.objects.select_for_update().filter(**named).first()
    if found is None or found.ended_at is None:
        return found
    if activity.type == Activity.Type.ROLLBACK:
        raise DomainError(
            "bet_settled", "The bet's round is over; it can no longer be rolled back."
        )
    raise DomainError("round_closed", "The round is over.")


ROLLBACK_REMEMBERED = {
    "code": "rollback_before_bet",
    "message": "No bet with this reference yet: the rollback is remembered, and the bet is "
    "refused (bet_rolled_back) if it arrives later.",
}


def _money_move(activity: Activity) -> list[dict]:
    """Move the money of one live event (deposit … chargeback); returns its warnings.

    The wallet's event dispatcher: private to this module, so every event takes the one path.
    Raises the DomainErrors listed on `events_ingest`.
    """
    player, currency = activity.player, activity.currency_id
    common = {
        "player": player,
        "currency": currency,
        "idempotency_key": f"event:{activity.source}:{activity.external_id}",
        "activity": activity,
    }
    kind, warnings = activity.type, []
    if kind == Activity.Type.DEPOSIT:
        services.wallet_deposit(amount=activity.amount, **common)
    elif kind == Activity.Type.WITHDRAWAL:
        services.wallet_withdraw(amount=activity.amount, **common)
    elif kind == Activity.Type.BET:
        if activity.amount:
            services.wallet_bet_place(
                amount=activity.amount,
                game_category=activity.game_category,
                game_id=activity.game_id,
                promo=source_is_promo(activity.source),
                **common,
            )
        else:
            services.wallet_bet_zero_check(player=player, currency=currency, activity=activity)
    elif kind == Activity.Type.WIN:
        bets = []
        if activity.reference_id or activity.round_id:
            bets = services.bets_referenced(
                player=player,
                currency=currency,
                reference_id=activity.reference_id,
                round_id=activity.round_id,
                source=activity.source,
            )
        if activity.amount:
            services.wallet_win_settle(
                amount=activity.amount,
                bets=bets,
                promo=source_is_promo(activity.source),
                game_id=activity.game_id,
                **common,
            )
    elif kind == Activity.Type.ROLLBACK:
        # an amount of 0 (aggregators may send one) cancels whatever the stake was
        if not services.wallet_bet_rollback(amount=activity.amount or None, **common):
            warnings.append(ROLLBACK_REMEMBERED)
    elif kind == Activity.Type.CHARGEBACK:
        services.wallet_chargeback(amount=activity.amount, **common)
    else:
        raise DomainError("invalid_type", f"Unknown event type {kind}.")
    return warnings
