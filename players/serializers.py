"""API shapes of the players app (SPEC §10 "Shapes that integrators rely on")."""

from decimal import ROUND_HALF_EVEN, Decimal

from rest_framework import serializers

from players.metrics import METRICS, WINDOWS
from players.models import Player, PlayerMetrics

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
