"""`POST events/` (SPEC §10): the API door of the one ingestion path (wallet/events.py).

The serializer checks each event's shape, amount and currency; `events_ingest` does the rest.
"""

import threading

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.fields import AwareDateTimeField
from config.api.negotiation import RememberingContentNegotiation
from config.errors import DomainError
from config.roles import ADMIN, OPERATOR, SERVICE
from players.api_fields import IdentifierField, MoneyTextField
from players.fingerprints import payment_instrument_validate
from players.identifiers import EVENT_ID_MAX_LENGTH, PLAYER_ID_MAX_LENGTH
from players.models import Activity, GameCategory
from players.money import amount_validate, currency_get
from wallet.api_events_check import EventCheck
from wallet.event_records import REJECTED, EventInput, EventResult, Reason
from wallet.events import events_ingest


class EventSerializer(serializers.Serializer):
    """One incoming event; turns type/amount/currency problems into stable reason codes."""

    external_id = IdentifierField(max_length=EVENT_ID_MAX_LENGTH)
    player_id = IdentifierField(max_length=PLAYER_ID_MAX_LENGTH)
    type = serializers.ChoiceField(choices=Activity.Type.choices)
    amount = MoneyTextField()
    currency = serializers.CharField(max_length=10)
    occurred_at = AwareDateTimeField()
    game_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    game_category = serializers.ChoiceField(
        choices=GameCategory.choices, required=False, allow_blank=True, default=""
    )
    round_id = IdentifierField(
        max_length=EVENT_ID_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    reference_id = IdentifierField(
        max_length=EVENT_ID_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    # fingerprints (SPEC §10): a payment instrument is a hash or token, never a card number
    device_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    ip = serializers.IPAddressField(required=False, allow_blank=True, default="")
    payment_instrument = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default=""
    )

    def validate_payment_instrument(self, value: str) -> str:
        try:
            return payment_instrument_validate(value)
        except DomainError as error:
            raise serializers.ValidationError(error.message, code=error.code) from None

    def validate(self, attrs: dict) -> dict:
        try:
            currency = currency_get(attrs["currency"])
            # A zero win settles a lost round (docs/wallet.md); every other amount is positive.
            attrs["amount"] = amount_validate(
                attrs["amount"], currency, allow_zero=attrs["type"] == Activity.Type.WIN
            )
        except DomainError as error:
            field = "currency" if error.code == "unknown_currency" else "amount"
            raise serializers.ValidationError({field: [error.message]}, code=error.code) from None
        attrs["currency"] = currency
        return attrs


_per_thread = threading.local()


def _event_check() -> EventCheck:
    """One serializer per thread validates every item, as a ListSerializer's child does: its
    fields are deep-copied once, not once per event (a third of a 1,000-event batch's time) nor
    once per request. `run_validation` keeps no state on the instance. The hand-written check
    of the common payload (wallet/api_events_check.py) reads that serializer's fields."""
    check = getattr(_per_thread, "check", None)
    if check is None:
        check = _per_thread.check = EventCheck(EventSerializer())
    return check


def event_attrs(item: object, check: EventCheck) -> dict:
    """The event's `validated_data`, exactly as `EventSerializer` gives it; raises its
    ValidationError (whose detail the caller words again with `is_valid`)."""
    attrs = check.attrs(item)
    return check.serializer.run_validation(item) if attrs is None else attrs


MISSING = frozenset({"required", "null", "blank"})


def event_error_code(errors: dict) -> str:
    """The reason code for an invalid event: the most specific problem first.

    A bad amount or currency has its own code; a missing one makes the event `invalid_event`.
    """
    for field, code in (("amount", "invalid_amount"), ("currency", "unknown_currency")):
        if any(getattr(error, "code", None) not in MISSING for error in errors.get(field, [])):
            return code
    if any(
        getattr(error, "code", None) == "card_number_refused"
        for error in errors.get("payment_instrument", [])
    ):
        return "card_number_refused"
    return "invalid_event"


EVENTS_REQUEST = inline_serializer("EventsRequest", fields={"events": EventSerializer(many=True)})
EVENT_RESULTS = inline_serializer(
    "EventResult",
    many=True,
    fields={
        "external_id": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["applied", "duplicate", "rejected"]),
        "reason": serializers.DictField(allow_null=True),
        "balances": serializers.DictField(),
        "warnings": serializers.ListField(child=serializers.DictField()),
        "original_status": serializers.CharField(required=False),
    },
)


class EventsView(APIView):
    """Record activity events: one event object, or `{"events": [...]}` of up to 1,000."""

    write_roles = frozenset({ADMIN, OPERATOR, SERVICE})
    content_negotiation_class = RememberingContentNegotiation  # DRF's answers, kept (ADR 0029)

    @extend_schema(
        request=EVENTS_REQUEST,
        responses={
            200: inline_serializer("EventsResponse", fields={"results": EVENT_RESULTS}),
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request):
        payload = request.data
        single = isinstance(payload, dict) and "events" not in payload
        items = (
            [payload] if single else payload.get("events") if isinstance(payload, dict) else None
        )
        if not isinstance(items, list) or not items:
            raise ValidationError({"events": ['Send one event object or {"events": [...]}.']})
        limit = settings.PITBOSS["MAX_EVENTS_PER_REQUEST"]
        if len(items) > limit:
            raise ValidationError({"events": [f"At most {limit} events per request."]})

        outcomes: list[EventResult | None] = []
        valid = []
        check = _event_check()
        for item in items:
            try:
                attrs = event_attrs(item, check)
            except ValidationError:
                # the errors exactly as `is_valid` words them (rare: cost no matter)
                invalid = EventSerializer(data=item)
                invalid.is_valid()
                if single:
                    raise ValidationError(invalid.errors) from None
                errors = invalid.errors
                external_id = item.get("external_id") if isinstance(item, dict) else None
                reason = Reason(event_error_code(errors), "The event is invalid.", errors)
                outcomes.append(EventResult(str(external_id or ""), REJECTED, reason))
            else:
                outcomes.append(None)
                valid.append(EventInput(**attrs))
        recorded = iter(events_ingest(events=valid))
        results = [outcome or next(recorded) for outcome in outcomes]
        conflict = single and results[0].reason and results[0].reason.code == "idempotency_conflict"
        return Response(
            {"results": [outcome.as_json() for outcome in results]},
            status=status.HTTP_409_CONFLICT if conflict else status.HTTP_200_OK,
        )
