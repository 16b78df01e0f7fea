"""Recording activity events from the API (SPEC §3, §10): idempotent, one outcome per event.

Each event is one transaction (a savepoint when the caller already holds one), in as few round
trips as possible because the API answers it while the caller waits (SPEC §12):
1. the player (created on first sight), the `Activity` row, the wallet movement and the
   `EventReceipt` with its final outcome and the balances after it, all at once;
2. a duplicate fails on a UNIQUE key (the activity's or the receipt's) — a concurrent one waits
   for the first to commit — so the transaction rolls back and the first answer is replayed
   (or `idempotency_conflict` when the payload differs);
3. a `DomainError` (insufficient funds, max bet, …) rolls everything back; a second transaction
   stores the `rejected` receipt (and the player). A rejected event moves no money, so a duplicate
   that slips in between is harmless: whichever receipt commits first is the answer.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from config.errors import DomainError
from players.models import Activity, Currency, EventReceipt, Player
from players.money import convert
from players.refresh_queue import players_refresh_soon
from players.services import player_get_or_create
from wallet.events import event_money_apply
from wallet.selectors import event_warnings, wallet_balances

log = structlog.get_logger(__name__)

APPLIED = "applied"
REJECTED = "rejected"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class EventInput:
    """A validated event (the API serializer has checked types, amount and currency)."""

    external_id: str
    player_id: str
    type: str
    amount: Decimal
    currency: Currency
    occurred_at: object
    game_id: str = ""
    game_category: str = ""
    round_id: str = ""
    reference_id: str = ""

    def payload_hash(self) -> str:
        canonical = {
            "player_id": self.player_id,
            "type": self.type,
            "amount": format(self.amount.normalize(), "f"),
            "currency": self.currency.code,
            "occurred_at": self.occurred_at.isoformat(),
            "game_id": self.game_id,
            "game_category": self.game_category,
            "round_id": self.round_id,
            "reference_id": self.reference_id,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def result(
    external_id: str,
    status: str,
    reason: dict | None,
    balances: dict,
    warnings: list | None = None,
    **extra,
) -> dict:
    return {
        "external_id": external_id,
        "status": status,
        "reason": reason,
        "balances": balances,
        "warnings": warnings or [],
        **extra,
    }


def _replay(receipt: EventReceipt, payload_hash: str) -> dict:
    if receipt.payload_hash != payload_hash:
        return result(
            receipt.external_id,
            REJECTED,
            {
                "code": "idempotency_conflict",
                "message": "This external_id was already used for a different event.",
            },
            receipt.balances,
        )
    reason = (
        {"code": receipt.reason_code, "message": receipt.reason_message}
        if receipt.reason_code
        else None
    )
    return result(
        receipt.external_id,
        DUPLICATE,
        reason,
        receipt.balances,
        receipt.warnings,
        original_status=receipt.status,
    )


def event_record(*, event: EventInput) -> tuple[dict, int | None]:
    """Record one event; returns its result and the id of the player it touched (if applied)."""
    payload_hash = event.payload_hash()
    receipt = EventReceipt(external_id=event.external_id, payload_hash=payload_hash)
    try:
        with transaction.atomic():
            player, activity = _player_and_activity(event)
            receipt.balances = event_money_apply(activity=activity)
            receipt.warnings = event_warnings(activity=activity)
            receipt.status, receipt.activity = APPLIED, activity
            receipt.save(force_insert=True)
        touched = player.pk
    except IntegrityError as error:
        return _replay_or_raise(event.external_id, payload_hash, error), None
    except DomainError as error:
        # Nothing of the event stayed (the transaction rolled back): answer `rejected`, and
        # keep the player (events may precede the profile) and the receipt for replays.
        receipt.status, receipt.reason_code = REJECTED, error.code
        receipt.reason_message = error.message[:255]
        receipt.warnings, touched = [], None
        log.info("event_rejected", external_id=event.external_id, code=error.code)
        try:
            with transaction.atomic():
                receipt.balances = wallet_balances(player=_player(event))
                receipt.save(force_insert=True)
        except IntegrityError as conflict:
            return _replay_or_raise(event.external_id, payload_hash, conflict), None
    reason = (
        {"code": receipt.reason_code, "message": receipt.reason_message}
        if receipt.reason_code
        else None
    )
    outcome = result(event.external_id, receipt.status, reason, receipt.balances, receipt.warnings)
    return outcome, touched


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


_PLAYER_COLUMNS = [field.column for field in Player._meta.concrete_fields]
_PLAYER_ATTNAMES = [field.attname for field in Player._meta.concrete_fields]
_ACTIVITY_FIELDS = [field for field in Activity._meta.concrete_fields if not field.primary_key]
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


def _player_and_activity_sql(event: EventInput) -> tuple[Player, Activity] | None:
    """None when the player is unknown or keeps another currency (nothing was written)."""
    activity = Activity(
        source="api",
        external_id=event.external_id,
        type=event.type,
        amount=event.amount,
        currency=event.currency,
        player_amount=event.amount,  # the player's currency is the event's (checked in SQL)
        occurred_at=event.occurred_at,
        game_id=event.game_id,
        game_category=event.game_category,
        round_id=event.round_id,
        reference_id=event.reference_id,
    )
    values = [
        field.get_db_prep_save(field.pre_save(activity, True), connection)
        for field in _ACTIVITY_FIELDS
        if field.attname != "player_id"
    ]
    with connection.cursor() as cursor:
        cursor.execute(_PLAYER_AND_ACTIVITY_SQL, [event.player_id, *values, event.currency.code])
        row = cursor.fetchone()
    if row is None or row[-1] is None:
        return None
    player = Player.from_db(connection.alias, _PLAYER_ATTNAMES, row[:-1])
    activity.pk, activity.player = row[-1], player
    activity._state.adding, activity._state.db = False, connection.alias
    return player, activity


def _replay_or_raise(external_id: str, payload_hash: str, error: IntegrityError) -> dict:
    """The answer to a duplicate: the event's receipt, committed by the transaction that won."""
    receipt = EventReceipt.objects.filter(external_id=external_id).first()
    if receipt is None:  # a conflict that is not a duplicate event: a real error
        raise error
    return _replay(receipt, payload_hash)


def _activity_create(*, player: Player, event: EventInput) -> Activity:
    player_amount = convert(
        event.amount, source=event.currency.code, target=player.currency_id, at=event.occurred_at
    )
    if player_amount > settings.PITBOSS["MAX_AMOUNT"]:  # would also overflow NUMERIC(20, 8)
        raise DomainError(
            "invalid_amount",
            f"amount: {player_amount} {player.currency_id} is over the allowed maximum.",
        )
    return Activity.objects.create(
        source="api",
        external_id=event.external_id,
        player=player,
        type=event.type,
        amount=event.amount,
        currency=event.currency,
        player_amount=player_amount,
        occurred_at=event.occurred_at,
        game_id=event.game_id,
        game_category=event.game_category,
        round_id=event.round_id,
        reference_id=event.reference_id,
    )


def events_record(*, events: list[EventInput]) -> list[dict]:
    """Record events in order, each in its own transaction; refresh touched players after."""
    results, touched = [], set()
    for event in events:
        outcome, player_pk = event_record(event=event)
        results.append(outcome)
        if player_pk is not None:
            touched.add(player_pk)
    if touched:
        transaction.on_commit(lambda: players_refresh_soon(touched))
    return results
