"""Run one expression through the three evaluators over the same rows, for comparison."""

import math
from decimal import Decimal

import pandas as pd

from players.models import Player
from rewards.expressions import Expression
from rewards.names import players_with_names
from tests.rewards.player_rows import make_players


def scalar(expression: Expression, rows: list[dict]) -> list:
    return [expression.evaluate(row) for row in rows]


def frame_of(expression: Expression, rows: list[dict]) -> pd.DataFrame:
    names = sorted(expression.names)
    return pd.DataFrame({n: [row.get(n) for row in rows] for n in names}, index=range(len(rows)))


def vectorised(expression: Expression, rows: list[dict]) -> list:
    series = expression.evaluate_frame(frame_of(expression, rows))
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
        for v in series.tolist()
    ]


def sql(expression: Expression, rows: list[dict]) -> list:
    """Insert the rows as players (with metrics), evaluate in the database, clean up."""
    players = make_players(rows, prefix="three")
    try:
        ids = [p.pk for p in players]
        queryset, resolve = players_with_names(
            Player.objects.filter(pk__in=ids).order_by("pk"), expression.names
        )
        return list(
            queryset.annotate(result=expression.to_django(resolve)).values_list("result", flat=True)
        )
    finally:
        Player.objects.filter(pk__in=[p.pk for p in players]).delete()


def same(a, b, tolerance: float = 1e-9) -> bool:
    """Equal values: booleans and missing exactly, numbers within a relative tolerance."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, (bool, int)) and isinstance(b, (bool, int))
    if isinstance(a, (Decimal, float, int)) and isinstance(b, (Decimal, float, int)):
        x, y = float(a), float(b)
        return abs(x - y) <= tolerance * max(1.0, abs(x), abs(y))
    return a == b
