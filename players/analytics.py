"""Set-based metric refresh (SPEC §4): one INSERT … SELECT … ON CONFLICT for all windows.

The statement aggregates `players_activity` (amounts already in the player's currency; one
GROUP BY per window, glued with UNION ALL, so that each window reads only its own rows) and
`players_bonusactivity` per player and window, and upserts one `PlayerMetrics` row per player
and window — including empty windows, which get zeros. It runs the same on PostgreSQL and
SQLite; only calendar-day arithmetic differs, and it lives in `Dialect`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from players.metrics import METRIC_NAMES, WINDOW_HOURS


@dataclass(frozen=True)
class Dialect:
    """The few SQL fragments that differ between PostgreSQL and SQLite."""

    vendor: str

    def day(self, column: str) -> str:
        if self.vendor == "postgresql":
            return f"(({column}) AT TIME ZONE %(tz)s)::date"
        return f"date({column})"

    def days_between(self, as_of_day: str, column: str) -> str:
        if self.vendor == "postgresql":
            return f"({as_of_day} - {self.day(column)})"
        return f"CAST(julianday({as_of_day}) - julianday({self.day(column)}) AS INTEGER)"

    def as_of_day(self) -> str:
        if self.vendor == "postgresql":
            return "((%(as_of)s::timestamptz) AT TIME ZONE %(tz)s)::date"
        return "date(%(as_of)s)"

    def player_filter(self, column: str) -> str:
        if self.vendor == "postgresql":
            # A semi-join, not `= ANY(array)`: the planner estimates `= ANY` element by element,
            # which took over a second per use for the 100,000 ids of a large import (bench/).
            return f"{column} IN (SELECT unnest(%(player_ids)s::bigint[]))"
        return f"{column} IN (SELECT value FROM json_each(%(player_ids)s))"

    def player_ids_param(self, player_ids: Sequence[int]) -> object:
        if self.vendor == "postgresql":
            return list(player_ids)
        import json

        return json.dumps(list(player_ids))

    def json_object(self, pairs: dict[str, str]) -> str:
        function = "json_build_object" if self.vendor == "postgresql" else "json_object"
        arguments = ", ".join(f"'{key}', {value}" for key, value in pairs.items())
        return f"{function}({arguments})"

    def timestamp(self, value: datetime) -> object:
        return connection.ops.adapt_datetimefield_value(value)


def _sum_where(condition: str, value: str = "a.player_amount") -> str:
    # FILTER (PostgreSQL, SQLite >= 3.30) skips the other rows instead of adding zeros to them.
    return f"COALESCE(SUM({value}) FILTER (WHERE {condition}), 0)"


# A rollback that names its bet (`reference_id`, else `round_id`: the wallet's rule) removes that
# bet from the window the bet is in, and the wins settled against it from theirs (SPEC §4:
# turnover is bets minus rolled-back bets). A rollback naming nothing (imported history) can
# only count in its own window, as before; one naming a bet that is not there removes nothing.
UNREFERENCED_ROLLBACK = "a.type = 'rollback' AND a.reference_id = '' AND a.round_id = ''"


def _not_negative(value: str) -> str:
    # Only a rollback naming no bet, in a later window than its bet, could take a window below
    # zero; a window never shows a negative turnover or bet count.
    return f"CASE WHEN {value} < 0 THEN 0 ELSE {value} END"


def _rolled_back_sql(windows_sql: str, in_window: str, scoped) -> str:
    """CTEs: the bets rolled back as of `as_of`, the wins settled against them, and per player
    and window what they take away (`rolled_back_by_window`: turnover, bet_count, wins).

    Driven by the rollback rows (a few per thousand activities; PostgreSQL reads them once,
    materialised), joined to their bets through the unique (source, external_id) index or by
    round; with no referenced rollback the rest reads nothing.
    """
    same_bet = "b.player_id = r.player_id AND b.source = r.source AND b.type = 'bet'"
    return f"""
        WITH rollbacks AS (
            SELECT r.player_id, r.source, r.reference_id, r.round_id
            FROM players_activity r
            WHERE r.type = 'rollback' AND (r.reference_id <> '' OR r.round_id <> '')
              AND r.occurred_at <= %(as_of)s AND {scoped("r.player_id")}
        ), rolled AS (
            SELECT b.id, b.player_id, b.source, b.external_id, b.round_id, b.occurred_at,
                   b.player_amount, b.count
            FROM rollbacks r JOIN players_activity b
              ON b.source = r.source AND b.external_id = r.reference_id AND {same_bet}
            WHERE r.reference_id <> ''
            UNION
            SELECT b.id, b.player_id, b.source, b.external_id, b.round_id, b.occurred_at,
                   b.player_amount, b.count
            FROM rollbacks r JOIN players_activity b ON b.round_id = r.round_id AND {same_bet}
            WHERE r.round_id <> '' AND (r.reference_id = '' OR NOT EXISTS (
                SELECT 1 FROM players_activity x
                WHERE x.source = r.source AND x.external_id = r.reference_id))
        ), rolled_wins AS (
            SELECT w.id, w.player_id, w.occurred_at, w.player_amount
            FROM rolled b JOIN players_activity w
              ON w.player_id = b.player_id AND w.source = b.source AND w.type = 'win'
             AND w.reference_id = b.external_id
            UNION
            SELECT w.id, w.player_id, w.occurred_at, w.player_amount
            FROM rolled b JOIN players_activity w
              ON w.player_id = b.player_id AND w.source = b.source AND w.type = 'win'
             AND w.reference_id = '' AND w.round_id <> '' AND w.round_id = b.round_id
            WHERE NOT EXISTS (  -- a round win stays while any bet of the round stands
                SELECT 1 FROM players_activity live
                WHERE live.player_id = w.player_id AND live.source = w.source
                  AND live.type = 'bet' AND live.round_id = w.round_id
                  AND live.id NOT IN (SELECT id FROM rolled))
        ), rolled_back_by_window AS (
            SELECT x.player_id, w.win, SUM(x.turnover) AS turnover,
                   SUM(x.bet_count) AS bet_count, SUM(x.wins) AS wins
            FROM (
                SELECT player_id, occurred_at, player_amount AS turnover, count AS bet_count,
                       0 AS wins
                FROM rolled
                UNION ALL
                SELECT player_id, occurred_at, 0, 0, player_amount FROM rolled_wins
            ) x JOIN ({windows_sql}) w ON {in_window.format(alias="x")}
            GROUP BY x.player_id, w.win
        )"""


def _window_rows(as_of: datetime, dialect: Dialect) -> tuple[str, dict]:
    """A VALUES list of (window, start) pairs; lifetime has no start."""
    rows, params = [], {}
    for window, hours in WINDOW_HOURS.items():
        key = f"start_{window}"
        params[key] = None if hours is None else dialect.timestamp(as_of - timedelta(hours=hours))
        rows.append(f"SELECT '{window}' AS win, %({key})s AS start_at")
    return " UNION ALL ".join(rows), params


def metrics_refresh_sql(*, as_of: datetime, player_ids: Sequence[int] | None) -> tuple[str, dict]:
    """The upsert statement and its parameters (exposed for tests and EXPLAIN)."""
    dialect = Dialect(connection.vendor)
    windows_sql, params = _window_rows(as_of, dialect)
    params.update(as_of=dialect.timestamp(as_of), tz=settings.PITBOSS["REPORTING_TIME_ZONE"])
    if player_ids is not None:
        params["player_ids"] = dialect.player_ids_param(player_ids)

    def scoped(column: str) -> str:
        return "TRUE" if player_ids is None else dialect.player_filter(column)

    in_window = "(w.start_at IS NULL OR {alias}.occurred_at >= w.start_at) AND {alias}.occurred_at <= %(as_of)s"
    as_of_day = dialect.as_of_day()

    # One aggregate per window over just that window's rows, glued with UNION ALL: lifetime
    # reads every row in player order (the (player, occurred_at) index: no sort, streaming
    # groups), the short windows read only their recent rows (the occurred_at index). Joining
    # the rows to a list of windows instead evaluates every row once per window and sorts the
    # fan-out.
    day = dialect.day("a.occurred_at")
    per_window = []
    for window, hours in WINDOW_HOURS.items():
        since = "" if hours is None else f"a.occurred_at >= %(start_{window})s AND "
        per_window.append(f"""
        SELECT a.player_id, '{window}' AS win,
            {_sum_where("a.type = 'deposit'")} - {_sum_where("a.type = 'chargeback'")} AS deposits,
            {_sum_where("a.type = 'deposit'", "a.count")}
                - {_sum_where("a.type = 'chargeback'", "a.count")} AS deposit_count,
            {_sum_where("a.type = 'withdrawal'")} AS withdrawals,
            {_sum_where("a.type = 'withdrawal'", "a.count")} AS withdrawal_count,
            {_sum_where("a.type = 'bet'")} - {_sum_where(UNREFERENCED_ROLLBACK)} AS turnover,
            {_sum_where("a.type = 'bet'", "a.count")}
                - {_sum_where(UNREFERENCED_ROLLBACK, "a.count")} AS bet_count,
            {_sum_where("a.type = 'win'")} AS wins,
            COUNT(DISTINCT {day}) FILTER (WHERE a.type = 'bet') AS active_days,
            MAX(a.occurred_at) FILTER (WHERE a.type = 'bet') AS last_bet_at,
            MAX(a.occurred_at) FILTER (WHERE a.type = 'deposit') AS last_deposit_at
        FROM players_activity a
        WHERE {since}a.occurred_at <= %(as_of)s AND {scoped("a.player_id")}
        GROUP BY a.player_id""")
    activity = " UNION ALL ".join(per_window)
    bonus = f"""
        SELECT b.player_id, w.win,
            {_sum_where("b.kind IN ('converted', 'cash_paid')", "b.player_amount")} AS bonus_cost,
            {_sum_where("b.kind = 'granted'", "b.player_amount")} AS bonus_granted
        FROM players_bonusactivity b
        JOIN ({windows_sql}) w ON {in_window.format(alias="b")}
        WHERE {scoped("b.player_id")}
        GROUP BY b.player_id, w.win
    """
    base = f"""
        SELECT p.id AS player_id, w.win,
            COALESCE(ag.deposits, 0) AS deposits,
            COALESCE(ag.deposit_count, 0) AS deposit_count,
            COALESCE(ag.withdrawals, 0) AS withdrawals,
            COALESCE(ag.withdrawal_count, 0) AS withdrawal_count,
            {_not_negative("COALESCE(ag.turnover, 0) - COALESCE(rb.turnover, 0)")} AS turnover,
            {_not_negative("COALESCE(ag.bet_count, 0) - COALESCE(rb.bet_count, 0)")} AS bet_count,
            COALESCE(ag.wins, 0) - COALESCE(rb.wins, 0) AS wins,
            COALESCE(bo.bonus_cost, 0) AS bonus_cost,
            COALESCE(bo.bonus_granted, 0) AS bonus_granted,
            COALESCE(ag.active_days, 0) AS active_days,
            ag.last_bet_at, ag.last_deposit_at, p.registered_at
        FROM players_player p
        CROSS JOIN ({windows_sql}) w
        LEFT JOIN ({activity}) ag ON ag.player_id = p.id AND ag.win = w.win
        LEFT JOIN ({bonus}) bo ON bo.player_id = p.id AND bo.win = w.win
        LEFT JOIN rolled_back_by_window rb ON rb.player_id = p.id AND rb.win = w.win
        WHERE {scoped("p.id")}
    """
    derived = {
        "deposits": "m.deposits",
        "deposit_count": "m.deposit_count",
        "withdrawals": "m.withdrawals",
        "withdrawal_count": "m.withdrawal_count",
        "net_deposits": "m.deposits - m.withdrawals",
        "turnover": "m.turnover",
        "bet_count": "m.bet_count",
        "wins": "m.wins",
        "ggr": "m.turnover - m.wins",
        "bonus_cost": "m.bonus_cost",
        "ngr": "m.turnover - m.wins - m.bonus_cost",
        "player_net": "m.wins - m.turnover",
        "net_loss": "CASE WHEN m.turnover > m.wins THEN m.turnover - m.wins ELSE 0 END",
        "rtp": "CASE WHEN m.turnover <> 0 THEN m.wins * 1.0 / m.turnover END",
        "avg_bet": "CASE WHEN m.bet_count > 0 THEN m.turnover * 1.0 / m.bet_count END",
        "active_days": "m.active_days",
        "days_since_last_bet": dialect.days_between(as_of_day, "m.last_bet_at"),
        "days_since_last_deposit": dialect.days_between(as_of_day, "m.last_deposit_at"),
        "days_since_registration": dialect.days_between(as_of_day, "m.registered_at"),
        "bonus_granted": "m.bonus_granted",
        "bonus_to_deposit_ratio": "CASE WHEN m.deposits > 0 THEN m.bonus_granted * 1.0 / m.deposits END",
    }
    assert tuple(derived) == METRIC_NAMES, "the refresh SQL must produce every catalogued metric"
    columns = ", ".join(derived)
    updates = ", ".join(f"{name} = excluded.{name}" for name in ("as_of", *derived))
    # The WITH follows the column list: SQLite reports rowcount only for statements that begin
    # with INSERT.
    sql = f"""
        INSERT INTO players_playermetrics (player_id, "window", as_of, {columns})
        {_rolled_back_sql(windows_sql, in_window, scoped)}
        SELECT m.player_id, m.win, %(as_of)s, {", ".join(derived.values())}
        FROM ({base}) m
        WHERE TRUE
        ON CONFLICT (player_id, "window") DO UPDATE SET {updates}
    """
    return sql, params


def metrics_refresh_execute(*, as_of: datetime, player_ids: Sequence[int] | None) -> int:
    """Run the upsert; returns the number of metric rows written."""
    sql, params = metrics_refresh_sql(as_of=as_of, player_ids=player_ids)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.get_autocommit():
            # JIT-compiling this wide statement costs about a second and saves nothing (bench/).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.rowcount
