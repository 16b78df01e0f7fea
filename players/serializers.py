"""API shapes of the players app (SPEC §10 "Shapes that integrators rely on")."""

from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from config.api.parsers import JsonNumber
from config.errors import DomainError
from players.events import EventInput
from players.identifiers import EVENT_ID_MAX_LENGTH, PLAYER_ID_MAX_LENGTH, identifier_problem
from players.metrics import METRICS, WINDOWS
from players.models import Activity, GameCategory, Player, PlayerMetrics
from players.money import amount_check, currency_get, decimal_text_parse

RATIO_QUANTUM = Decimal("0.000001")


def money_str(value: Decimal | None, minor_units: int) -> str | None:
    if value is None:
        return None
    # format "f": str() would answer "1E-8" or "0E-8" for small amounts in 8-decimal currencies
    return format(value.quantize(Decimal(1).scaleb(-minor_units), rounding=ROUND_HALF_EVEN), "f")


def metrics_as_json(row: PlayerMetrics | dict | None, minor_units: int) -> dict:
    """One window's metrics: money as strings in the player's currency, counts as numbers.

    `row` is a stored row, or a dict of its values keyed by metric name (players/selectors.py
    `player_detail`). A player without stored metrics yet shows zeros (and missing for undefined
    ratios).
    """
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    values = {}
    for metric in METRICS:
        value = get(metric.name) if row is not None else None
        if value is None:
            value = None if metric.nullable else Decimal(0) if metric.kind == "money" else 0
        if value is None or metric.kind in {"count", "days"}:
            values[metric.name] = value
        elif metric.kind == "money":
            values[metric.name] = money_str(value, minor_units)
        else:
            values[metric.name] = format(value.quantize(RATIO_QUANTUM).normalize(), "f")
    return values


_DATETIME = serializers.DateTimeField()


def player_detail_as_json(detail: dict) -> dict:
    """`players/{id}/` from `player_detail` rows: the same shape as `PlayerSerializer`."""
    minor_units = detail["minor_units"]
    return {
        "external_id": detail["external_id"],
        "status": detail["status"],
        "currency": detail["currency_id"],
        "country": detail["country"],
        "registered_at": _DATETIME.to_representation(detail["registered_at"]),
        "segment": detail["segment"],
        "custom_segments": sorted(detail["custom_segments"]),
        "risk_score": detail["risk_score"],
        "metrics": {
            window: metrics_as_json(detail["metrics"].get(window), minor_units)
            for window in WINDOWS
        },
    }


class PlayerSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="currency_id")
    custom_segments = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = Player
        fields = [
            "external_id",
            "status",
            "currency",
            "country",
            "registered_at",
            "segment",
            "custom_segments",
            "risk_score",
            "metrics",
        ]

    def get_custom_segments(self, player: Player) -> list[str]:
        return sorted(m.segment.name for m in player.custom_memberships.all())

    def get_metrics(self, player: Player) -> dict:
        minor_units = player.currency.minor_units
        rows = {row.window: row for row in player.metrics.all()}
        return {window: metrics_as_json(rows.get(window), minor_units) for window in WINDOWS}


class IdentifierField(serializers.CharField):
    """A player, event or round id under the identifier rule (players/identifiers.py)."""

    def __init__(self, *, max_length: int, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # " p-1" is not "p-1": refuse, never guess
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        problem = value and identifier_problem(value, max_length=self.max_length)
        if problem:
            raise serializers.ValidationError(problem, code="invalid_identifier")
        return value


def amount_as_written(data: object) -> str:
    """An amount's text as the sender wrote it — a JSON string, or a JSON number (parsed
    exactly, never through float: `JsonNumber`) — checked to be a plain ASCII decimal."""
    if isinstance(data, JsonNumber):
        data = data.text
    elif isinstance(data, int) and not isinstance(data, bool):
        data = str(data)
    elif isinstance(data, str):
        data = data.strip()
    try:
        decimal_text_parse(data)
    except DomainError as error:
        raise serializers.ValidationError(error.message, code="invalid") from None
    return data


class MoneyTextField(serializers.CharField):
    """An amount as written (`amount_as_written`); `amount_check` then applies the money rules."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(amount_as_written(data))


class MoneyField(serializers.DecimalField):
    """DRF's DecimalField for amounts, reading only what `amount_as_written` accepts."""

    def to_internal_value(self, data):
        return super().to_internal_value(amount_as_written(data))


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

    def validate(self, attrs: dict) -> dict:
        try:
            currency = currency_get(attrs["currency"])
            # A zero win settles a lost round (docs/wallet.md); every other amount is positive.
            attrs["amount"] = amount_check(
                attrs["amount"], currency, allow_zero=attrs["type"] == Activity.Type.WIN
            )
        except DomainError as error:
            field = "currency" if error.code == "unknown_currency" else "amount"
            raise serializers.ValidationError({field: [error.message]}, code=error.code) from None
        attrs["currency"] = currency
        return attrs

    def to_event(self) -> EventInput:
        return EventInput(**self.validated_data)


MISSING = frozenset({"required", "null", "blank"})


def event_error_code(errors: dict) -> str:
    """The reason code for an invalid event: the most specific problem first.

    A bad amount or currency has its own code; a missing one makes the event `invalid_event`.
    """
    for field, code in (("amount", "invalid_amount"), ("currency", "unknown_currency")):
        if any(getattr(error, "code", None) not in MISSING for error in errors.get(field, [])):
            return code
    return "invalid_event"


class EventsResponseSerializer(serializers.Serializer):
    results = serializers.ListField(child=serializers.DictField())


def reporting_currency() -> str:
    return settings.PITBOSS["REPORTING_CURRENCY"]
