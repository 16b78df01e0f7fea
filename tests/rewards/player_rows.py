"""Players with metrics rows built straight from dicts of expression names (bulk inserts)."""

from datetime import UTC, datetime

from players.metrics import windowed_names
from players.models import Player, PlayerMetrics

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
ATTRIBUTES = {"segment", "status", "country", "currency", "risk_score"}


def make_players(rows: list[dict], prefix: str = "p") -> list[Player]:
    """One player per row; metric names (`net_loss_7d`) fill that window's metrics row.

    A row's `days_since_registration` goes to the lifetime row; absent metrics keep the
    model defaults; a row without any metric of a window gets no row for that window.
    """
    metrics = windowed_names()
    players = Player.objects.bulk_create(
        [
            Player(
                external_id=f"{prefix}-{i}",
                registered_at=AS_OF,
                currency_id=row.get("currency", "EUR"),
                segment=row.get("segment", "new"),
                status=row.get("status", "active"),
                country=row.get("country") or "",
                risk_score=row.get("risk_score", 0),
            )
            for i, row in enumerate(rows)
        ]
    )
    metric_rows = []
    for player, row in zip(players, rows, strict=True):
        windows: dict[str, dict] = {}
        for name, value in row.items():
            if name in metrics:
                metric, window = metrics[name]
                windows.setdefault(window, {})[metric.name] = value
            elif name == "days_since_registration":
                windows.setdefault("lifetime", {})["days_since_registration"] = value
        for window, values in windows.items():
            metric_rows.append(PlayerMetrics(player=player, window=window, as_of=AS_OF, **values))
    PlayerMetrics.objects.bulk_create(metric_rows)
    return players
