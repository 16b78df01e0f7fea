"""What a live event is and what it answers (SPEC §10): the records the ingestion path
(wallet/events.py) and its batch path (wallet/events_batch.py) share."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from players.models import Activity, Currency, EventReceipt, Fingerprint, Player

APPLIED = "applied"
REJECTED = "rejected"
DUPLICATE = "duplicate"


PROMO_SOURCE_SUFFIX = ":promo"


def source_is_promo(source: str) -> bool:
    """Whether events of `source` are free rounds: their bets are taken from the player's
    free-spins grants alone, and their winnings without a stake are paid to them."""
    return source.endswith(PROMO_SOURCE_SUFFIX)


@dataclass(frozen=True)
class EventInput:
    """A validated event (the API serializer has checked types, amount and currency)."""

    external_id: str
    player_id: str
    type: str
    amount: Decimal
    currency: Currency
    occurred_at: datetime
    game_id: str = ""
    game_category: str = ""
    round_id: str = ""
    reference_id: str = ""
    # fingerprints (SPEC §10): stored once per player; not part of the payload hash, since a
    # resend through another connection is still the same event
    device_id: str = ""
    ip: str = ""
    payment_instrument: str = ""
    # Where the event comes from: `api` (POST events/), or `agg:<slug>` for an aggregator
    # (wallet/aggregator/), `agg:<slug>:promo` for its promo transactions (free rounds, played
    # with free-spins grants: PROMO_SOURCE_SUFFIX); external ids, bets and rounds are looked up
    # within one source.
    source: str = "api"
    # The source reports round ends: keep the round's state (`GameRound`): a bet opens it, a
    # win with `round_over` closes it; a bet or win on a closed round is refused
    # (`round_closed`), and so is a rollback of its bets (`bet_settled`).
    rounds: bool = False
    round_over: bool = False

    def fingerprints(self) -> list[tuple[str, str]]:
        """(kind, value) of the fingerprints the event carries."""
        pairs = [
            (Fingerprint.Kind.DEVICE, self.device_id),
            (Fingerprint.Kind.IP, self.ip),
            (Fingerprint.Kind.PAYMENT, self.payment_instrument),
        ]
        return [(kind, value) for kind, value in pairs if value]

    @property
    def receipt_key(self) -> str:
        """The key of the event's receipt: its external id, within its source."""
        return self.external_id if self.source == "api" else f"{self.source}:{self.external_id}"

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
        if self.round_over:  # only when set, so that earlier receipts keep their hashes
            canonical["round_over"] = True
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Reason:
    """Why an event was rejected: a stable code (docs/api.md) and a message for people."""

    code: str
    message: str
    details: dict | None = None

    def as_json(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


@dataclass(frozen=True)
class EventResult:
    """The outcome of one event, as `POST events/` answers it (SPEC §10).

    `balances` is `{"EUR": {"cash": "70.00", "bonus": "0.00"}}` after the event (minor-unit
    strings); `original_status` is set on a `duplicate` (the first answer's status);
    `activity_id` and `player_id` (primary keys) are set when this call applied the event.
    """

    external_id: str
    status: str
    reason: Reason | None = None
    balances: dict = field(default_factory=dict)
    warnings: tuple[dict, ...] = ()
    original_status: str | None = None
    activity_id: int | None = None
    player_id: int | None = None

    def as_json(self) -> dict:
        body = {
            "external_id": self.external_id,
            "status": self.status,
            "reason": self.reason.as_json() if self.reason else None,
            "balances": self.balances,
            "warnings": list(self.warnings),
        }
        if self.original_status is not None:
            body["original_status"] = self.original_status
        return body


def reason_or_none(code: str, message: str) -> Reason | None:
    return Reason(code, message) if code else None


def receipt_replay(receipt: EventReceipt, payload_hash: str, external_id: str) -> EventResult:
    if receipt.payload_hash != payload_hash:
        return EventResult(
            external_id,
            REJECTED,
            Reason(
                "idempotency_conflict", "This external_id was already used for a different event."
            ),
            receipt.balances,
        )
    return EventResult(
        external_id,
        DUPLICATE,
        reason_or_none(receipt.reason_code, receipt.reason_message),
        receipt.balances,
        tuple(receipt.warnings),
        original_status=receipt.status,
    )


def activity_for(event: EventInput, player_amount: Decimal, player: Player | None = None):
    return Activity(
        source=event.source,
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
