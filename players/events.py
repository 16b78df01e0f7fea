"""Recording activity events from the API (SPEC §3, §10): idempotent, one outcome per event.

Each event runs in its own transaction:
1. its `EventReceipt` row is inserted first: the UNIQUE external id makes a concurrent or later
   duplicate wait for, then replay, the first answer (or answer `idempotency_conflict` when the
   payload differs);
2. the `Activity` row and the wallet movement happen inside a savepoint; a `DomainError` from the
   wallet (insufficient funds, max bet, …) rolls the savepoint back and the event is `rejected`;
3. the receipt stores the outcome and the balances after it, so a replay answers the same.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from config.errors import DomainError
from players.models import Activity, Currency, EventReceipt, Player
from players.money import convert
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


@transaction.atomic
def event_record(*, event: EventInput) -> tuple[dict, int | None]:
    """Record one event; returns its result and the id of the player it touched (if applied)."""
    payload_hash = event.payload_hash()
    try:
        with transaction.atomic():
            receipt = EventReceipt.objects.create(
                external_id=event.external_id, payload_hash=payload_hash, status="pending"
            )
    except IntegrityError:
        return _replay(EventReceipt.objects.get(external_id=event.external_id), payload_hash), None

    player = player_get_or_create(
        external_id=event.player_id, currency=event.currency, registered_at=event.occurred_at
    )
    try:
        with transaction.atomic():
            activity = _activity_create(player=player, event=event)
            balances = event_money_apply(activity=activity)
            receipt.warnings = event_warnings(activity=activity)
        receipt.status, receipt.activity, touched = APPLIED, activity, player.pk
    except DomainError as error:
        balances = wallet_balances(player=player)
        receipt.status, receipt.reason_code, touched = REJECTED, error.code, None
        receipt.reason_message = error.message[:255]
        log.info("event_rejected", external_id=event.external_id, code=error.code)
    receipt.balances = balances
    receipt.save(
        update_fields=[
            "status",
            "activity",
            "reason_code",
            "reason_message",
            "balances",
            "warnings",
        ]
    )
    reason = (
        {"code": receipt.reason_code, "message": receipt.reason_message}
        if receipt.reason_code
        else None
    )
    outcome = result(event.external_id, receipt.status, reason, balances, receipt.warnings)
    return outcome, touched


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
        from players.tasks import players_refresh

        transaction.on_commit(lambda: players_refresh.delay(sorted(touched)))
    return results
