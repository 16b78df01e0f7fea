"""Staging tables and the set-based load into players and activity.

Checked rows go to a per-job staging table (PostgreSQL: UNLOGGED, filled with COPY; SQLite:
batched inserts). The load is then a handful of `INSERT … SELECT … ON CONFLICT` statements in
one transaction, so a job killed at any point leaves either nothing or everything, and a re-run
or a re-import inserts nothing twice.
"""

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from importer.models import Kind
from importer.records import ACTIVITY_COLUMNS, PLAYER_COLUMNS

ACTIVITY_TYPES_PG = {
    "row_no": "integer",
    # byte order, as players_activity.external_id (migration players 0012): the load's sort by
    # id then matches the unique index's order, and costs no strcoll
    "external_id": 'text COLLATE "C"',
    "player_id": "text",
    "type": "text",
    "amount": "numeric(20,8)",
    "currency": "text",
    "occurred_at": "timestamptz",
    "game_id": "text",
    "game_category": "text",
    "round_id": "text",
    "reference_id": "text",
    "count": "integer",
}
PLAYER_TYPES_PG = {
    "row_no": "integer",
    "player_id": "text",
    "username": "text",
    "email": "text",
    "country": "text",
    "currency": "text",
    "registered_at": "timestamptz",
    "status": "text",
    "device_id": "text",
    "ip": "text",
    "payment_instrument": "text",
}


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def stage_table(job_id: int) -> str:
    return f"importer_stage_{int(job_id)}"


def _columns(kind: str) -> dict[str, str]:
    return PLAYER_TYPES_PG if kind == Kind.PLAYERS else ACTIVITY_TYPES_PG


def stage_create(*, job_id: int, kind: str) -> None:
    """(Re)create the job's empty staging table."""
    table = stage_table(job_id)
    columns = _columns(kind)
    stage_drop(job_id=job_id)
    with connection.cursor() as cursor:
        if is_postgres():
            body = ", ".join(f'"{name}" {type_}' for name, type_ in columns.items())
            cursor.execute(f"CREATE UNLOGGED TABLE {table} ({body})")
        else:
            body = ", ".join(f'"{name}"' for name in columns)
            cursor.execute(f"CREATE TABLE {table} ({body})")


def stage_drop(*, job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage_table(job_id)}")


def stage_exists(*, job_id: int) -> bool:
    return stage_table(job_id) in connection.introspection.table_names()


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as headerless CSV for COPY, written by Arrow's C++ writer (about 1.5x
    pandas' `to_csv`, and it releases the GIL). Empty text is written as NULL, as `to_csv`
    did: COPY reads an unquoted empty field as NULL."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for position, column in enumerate(table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            blank = pc.equal(column, "")
            table = table.set_column(
                position, table.field(position), pc.if_else(blank, None, column)
            )
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def stage_write(*, job_id: int, kind: str, rows: pd.DataFrame, raw=None) -> None:
    """Append staging rows (COPY on PostgreSQL, executemany on SQLite).

    `raw`: a psycopg connection to COPY through instead of Django's (StageWriter's thread
    uses the job's own connection that way: a Django connection belongs to its thread)."""
    if rows.empty:
        return
    table = stage_table(job_id)
    names = list(PLAYER_COLUMNS if kind == Kind.PLAYERS else ACTIVITY_COLUMNS)
    quoted = ", ".join(f'"{n}"' for n in names)
    if raw is not None or is_postgres():
        data = _csv_bytes(rows[names])
        with contextlib.ExitStack() as stack:
            cursor = stack.enter_context(raw.cursor() if raw is not None else connection.cursor())
            copy = stack.enter_context(
                cursor.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT csv)")
            )
            copy.write(data)
        return
    frame = rows[names].astype(object)
    frame = frame.where(frame.notna(), None)
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
            list(frame.itertuples(index=False, name=None)),
        )


class StageWriter:
    """Writes staging chunks while the caller reads and checks the next one (PostgreSQL).

    One background thread COPYs each chunk through the job's own psycopg connection (the
    same transaction as the caller's); `write` hands a chunk over after waiting for the
    previous one, so at most one chunk is in flight and its failure surfaces at the next
    `write` or at `wait`. Thread-safe because psycopg serialises a connection's operations
    and the caller does not use the connection while a chunk is in flight (it calls `wait`
    before its own statements). On SQLite every write is synchronous.
    """

    def __init__(self, *, job_id: int, kind: str):
        self.job_id, self.kind = job_id, kind
        self.pending: Future | None = None
        self.pool: ThreadPoolExecutor | None = None
        if is_postgres():
            connection.ensure_connection()
            self.raw = connection.connection
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-stage")

    def write(self, rows: pd.DataFrame) -> None:
        self.wait()
        if self.pool is None:
            stage_write(job_id=self.job_id, kind=self.kind, rows=rows)
            return
        self.pending = self.pool.submit(
            stage_write, job_id=self.job_id, kind=self.kind, rows=rows, raw=self.raw
        )

    def wait(self) -> None:
        """Block until the chunk in flight is stored; re-raises its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the chunk in flight (its error, if any, is left to `wait`) and stop."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def currencies_create(*, currencies: dict[str, dict]) -> None:
    """Create the currencies a mapping declares (existing ones are left as they are)."""
    from players.models import Currency

    for code, spec in currencies.items():
        Currency.objects.get_or_create(
            code=code, defaults={"minor_units": spec["minor_units"], "name": spec.get("name", "")}
        )


def _now() -> str:
    return (
        timezone.now().isoformat()
        if is_postgres()
        else timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    )


def _rate(currency: str, at: str) -> str:
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    return (
        f"COALESCE((SELECT r.rate FROM players_exchangerate r WHERE r.currency_id = {currency} "
        f"AND r.valid_from <= {at} ORDER BY r.valid_from DESC LIMIT 1), "
        f"CASE WHEN {currency} = '{reporting}' THEN 1 END)"
    )


def missing_rates(*, job_id: int) -> list[tuple[int, str, str]]:
    """Staged rows in another currency than their (existing) player's, with no rate to convert."""
    table = stage_table(job_id)
    sql = f"""
        SELECT s.row_no, s.currency, p.currency_id FROM {table} s
        JOIN players_player p ON p.external_id = s.player_id
        WHERE s.currency <> p.currency_id
          AND ({_rate("s.currency", "s.occurred_at")} IS NULL
               OR {_rate("p.currency_id", "s.occurred_at")} IS NULL)
        ORDER BY s.row_no
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def staged_currencies(*, job_id: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT currency FROM {stage_table(job_id)} ORDER BY currency")
        return [row[0] for row in cursor.fetchall() if row[0]]


# What an activity row says; a staged row with the same id saying something else conflicts.
_DIFFERS = """
    p.external_id <> s.player_id OR a.type <> s.type OR a.amount <> s.amount
    OR a.currency_id <> s.currency OR a.occurred_at <> s.occurred_at OR a.count <> s.count
    OR a.game_id <> COALESCE(s.game_id, '') OR a.game_category <> COALESCE(s.game_category, '')
    OR a.round_id <> COALESCE(s.round_id, '') OR a.reference_id <> COALESCE(s.reference_id, '')
"""


def reimport_compare(*, job_id: int, source: str) -> tuple[int, list[tuple]]:
    """Staged rows whose id an earlier import of `source` already stored.

    → (identical rows, conflicting rows as (row_no, external_id, old amount, new amount,
    old count, new count, old time, new time) ordered by row)."""
    table = stage_table(job_id)
    joined = f"""
        FROM {table} s
        JOIN players_activity a ON a.source = %s AND a.external_id = s.external_id
        JOIN players_player p ON p.id = a.player_id
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {joined}", [source])
        matched = cursor.fetchone()[0]
        if not matched:  # a new file: one probe per row, nothing to compare
            return 0, []
        cursor.execute(
            f"SELECT s.row_no, s.external_id, a.amount, s.amount, a.count, s.count, "
            f"a.occurred_at, s.occurred_at {joined} WHERE {_DIFFERS} ORDER BY s.row_no",
            [source],
        )
        conflicts = list(cursor.fetchall())
        return matched - len(conflicts), conflicts


def activity_delete(*, source: str, external_ids: list[str]) -> int:
    """Delete imported activity (analytics facts of `source`, never API/wallet rows) so that
    a corrected import can store them again (`on_conflict=replace`). → rows deleted."""
    if not source.startswith("import:"):
        raise ValueError("only imported activity is ever replaced")
    deleted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(external_ids), 500):
            part = external_ids[start : start + 500]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"DELETE FROM players_activity WHERE source = %s AND external_id IN ({marks})",
                [source, *part],
            )
            deleted += max(cursor.rowcount, 0)
    return deleted


def stage_delete_rows(*, job_id: int, rows: list[int]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"DELETE FROM {stage_table(job_id)} WHERE row_no IN ({marks})", part)


def _bulk_settings(cursor) -> bool:
    """Tune the load transaction (PostgreSQL). → whether FK triggers may be replaced by locks.

    Everything here is `SET LOCAL`, so it ends with the transaction. wal_compression and
    session_replication_role need superuser or `GRANT SET ON PARAMETER` (PostgreSQL 15+); a
    role without it simply loads the ordinary way.
    """
    cursor.execute("SET LOCAL synchronous_commit = off")  # one commit: no durability gained
    cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves on this plan
    # sort the rows in memory: 1,000,000 staged rows spilled ~100 MB to disk at 64 MB
    cursor.execute("SET LOCAL work_mem = '256MB'")
    fast_fk = False
    for setting in ("wal_compression = on", "session_replication_role = replica"):
        cursor.execute("SAVEPOINT importer_setting")
        try:
            cursor.execute(f"SET LOCAL {setting}")
        except DatabaseError:
            cursor.execute("ROLLBACK TO SAVEPOINT importer_setting")
            continue
        cursor.execute("RELEASE SAVEPOINT importer_setting")
        fast_fk = setting.startswith("session_replication_role")
    if fast_fk:
        # Replica mode silences every trigger, not only the FK checks: only use it when the
        # tables have no trigger of their own (today none has).
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid IN ('players_activity'::regclass, 'players_player'::regclass)"
        )
        fast_fk = cursor.fetchone()[0] == 0
    return fast_fk


def _lock_currencies(cursor, table: str) -> bool:
    """FOR KEY SHARE on the referenced currencies (the lock each FK trigger would take).
    → whether every currency the rows name exists. One scan of the rows."""
    cursor.execute(
        f"WITH used AS MATERIALIZED (SELECT DISTINCT currency FROM {table}) "
        "SELECT (SELECT count(*) FROM used), (SELECT count(*) FROM (SELECT 1 FROM "
        "players_currency c WHERE c.code IN (SELECT currency FROM used) FOR KEY SHARE OF c) x)"
    )
    used, locked = cursor.fetchone()
    return locked == used


def _lock_players(cursor, named: str) -> None:
    """FOR KEY SHARE on every player the rows name (`named`: one row per player), once per
    player instead of once per row.

    With these locks a concurrent delete of a player or currency waits for this transaction,
    and the INSERT joins on the player, so every stored row references a row that exists and
    stays: what the FK triggers guarantee, checked set-based.
    """
    cursor.execute(
        f"SELECT 1 FROM players_player p WHERE p.external_id IN "
        f"(SELECT player_id FROM {named}) FOR KEY SHARE OF p"
    )


def named_players_table(table: str) -> str:
    return f"{table}_players"


def _named_players_create(cursor, table: str) -> None:
    """A temporary table of the players the staged rows name, one row each with the smallest
    currency code and earliest time of their rows (what a new player is created with). One
    scan of the rows instead of one for the new players and one for the locks."""
    named = named_players_table(table)
    cursor.execute(f"DROP TABLE IF EXISTS {named}")
    cursor.execute(
        f"CREATE TEMP TABLE {named} ON COMMIT DROP AS SELECT s.player_id, "
        f"MIN(s.currency) AS currency, MIN(s.occurred_at) AS occurred_at FROM {table} s "
        "GROUP BY s.player_id"
    )


# pg_advisory_xact_lock's first key for "the load of one import source" (the second is the
# source's hash): any constant no other advisory lock of ours uses.
SOURCE_LOCK = 0x1B0_0005


def source_lock(*, source: str) -> None:
    """Serialise the load transactions of imports of one `source` (PostgreSQL; a no-op on
    SQLite, whose writers are serialised anyway).

    A transaction-level advisory lock, taken as the transaction's first statement and held
    until it ends: between a load's check that none of its ids is stored and its INSERT, no
    other import of the same source can store one. Imports of other sources and the API (other
    sources) do not wait. The check after it must run in a new statement under READ COMMITTED
    (Django's default) to see what the previous holder committed.
    """
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [SOURCE_LOCK, source])


def activity_known(*, job_id: int, source: str) -> bool:
    """Whether any staged id is already stored under `source` (stops at the first one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {stage_table(job_id)} s JOIN players_activity a "
            "ON a.source = %s AND a.external_id = s.external_id)",
            [source],
        )
        return bool(cursor.fetchone()[0])


def load_activity(*, job_id: int, source: str, new_ids: bool = False) -> tuple[int, int]:
    """Create unknown players, then insert the staged activity. → (players, activities) new.

    On PostgreSQL the rows go in sorted by the unique key (the unique index then grows at its
    right edge instead of splitting pages all over), with the per-row FK triggers replaced by
    one set-based lock of the referenced rows when the role may do so (see _bulk_settings).
    A new player takes the smallest currency code and the earliest time of their rows. An id
    the file repeats is stored once, from its first row.

    `new_ids` (PostgreSQL): the caller holds source_lock and found no staged id stored
    (activity_known). The activity is then a plain `INSERT … SELECT DISTINCT ON` instead of
    `… ON CONFLICT DO NOTHING`, whose speculative insertion pre-checks the unique index and
    writes a confirmation WAL record for every row (~25% of the statement at 1,000,000 rows,
    ADR 0027); a stored id would make it fail on the unique key rather than be skipped.
    """
    table = stage_table(job_id)
    now = _now()
    postgres = is_postgres()
    new_ids = new_ids and postgres
    # the players the rows name, one row each (PostgreSQL: a temporary table, read twice)
    named = named_players_table(table) if postgres else table
    order_players = "ORDER BY s.player_id" if postgres else ""
    players_sql = f"""
        INSERT INTO players_player (external_id, username, email, country, currency_id,
            registered_at, status, segment, risk_score, no_bonus, created_at)
        SELECT s.player_id, '', '', '', MIN(s.currency), MIN(s.occurred_at), 'active', 'new',
            0, false, %s
        FROM {named} s WHERE 1 = 1 GROUP BY s.player_id {order_players}
        ON CONFLICT (external_id) DO NOTHING
    """
    # The rate lookups (an index probe of players_exchangerate each) run only for rows in
    # another currency than their player's; CASE does not evaluate them otherwise.
    # A repeated id keeps its first row: DISTINCT ON, or ON CONFLICT skipping the later rows
    # (SQLite inserts in the stage's row order).
    distinct = "DISTINCT ON (s.external_id)" if new_ids else ""
    order = "ORDER BY s.external_id, s.row_no" if postgres else ""
    skip = "" if new_ids else "ON CONFLICT (source, external_id) DO NOTHING"
    stamp = "timestamptz" if postgres else "text"  # SQLite stores Django's text timestamps
    activity_sql = f"""
        INSERT INTO players_activity (source, external_id, player_id, type, amount, currency_id,
            player_amount, occurred_at, game_id, game_category, round_id, reference_id, count,
            created_at)
        SELECT {distinct} CAST(%s AS varchar), s.external_id, p.id, s.type, s.amount, s.currency,
            CASE WHEN s.currency = p.currency_id THEN s.amount
                 ELSE s.amount * {_rate("s.currency", "s.occurred_at")}
                      / {_rate("p.currency_id", "s.occurred_at")} END,
            s.occurred_at, COALESCE(s.game_id, ''), COALESCE(s.game_category, ''),
            COALESCE(s.round_id, ''), COALESCE(s.reference_id, ''), s.count, CAST(%s AS {stamp})
        FROM {table} s JOIN players_player p ON p.external_id = s.player_id
        WHERE 1 = 1 {order}
        {skip}
    """
    # (atomic: the temporary table lives until the transaction ends; a no-op in the caller's)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        fast_fk = _bulk_settings(cursor) if postgres else False
        # A currency deleted since validation: leave it to the FK trigger to refuse the load.
        fast_fk = fast_fk and _lock_currencies(cursor, table)
        if postgres:
            _named_players_create(cursor, table)
        if fast_fk:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(players_sql, [now])
        players = max(cursor.rowcount, 0)
        if fast_fk:
            _lock_players(cursor, named)
        cursor.execute(activity_sql, [source, now])
        activities = max(cursor.rowcount, 0)
        if fast_fk:  # (an error rolls the whole transaction back, SET LOCAL included)
            cursor.execute("SET LOCAL session_replication_role = origin")
    return players, activities


def load_players(*, job_id: int) -> tuple[int, int]:
    """Update known players with the mapped values, insert the others. → (created, updated)."""
    table = stage_table(job_id)
    reporting = settings.PITBOSS["REPORTING_CURRENCY"]
    now = _now()
    latest = f"s.row_no IN (SELECT MAX(row_no) FROM {table} GROUP BY player_id)"
    update_sql = f"""
        UPDATE players_player SET
            username = COALESCE(s.username, players_player.username),
            email = COALESCE(s.email, players_player.email),
            country = COALESCE(s.country, players_player.country),
            registered_at = COALESCE(s.registered_at, players_player.registered_at),
            status = COALESCE(s.status, players_player.status)
        FROM {table} s
        WHERE s.player_id = players_player.external_id AND {latest}
    """
    insert_sql = f"""
        INSERT INTO players_player (external_id, username, email, country, currency_id,
            registered_at, status, segment, risk_score, no_bonus, created_at)
        SELECT s.player_id, COALESCE(s.username, ''), COALESCE(s.email, ''),
            COALESCE(s.country, ''), COALESCE(s.currency, %s), COALESCE(s.registered_at, %s),
            COALESCE(s.status, 'active'), 'new', 0, false, %s
        FROM {table} s WHERE {latest}
        ON CONFLICT (external_id) DO NOTHING
    """
    # fingerprints, once per (player, kind, value): every row's, not only the latest
    fingerprints_sql = f"""
        INSERT INTO players_fingerprint (player_id, kind, value, first_seen_at)
        SELECT p.id, f.kind, f.value, %s
        FROM (SELECT player_id, 'device' AS kind, device_id AS value FROM {table}
              UNION SELECT player_id, 'ip', ip FROM {table}
              UNION SELECT player_id, 'payment', payment_instrument FROM {table}) f
        JOIN players_player p ON p.external_id = f.player_id
        WHERE f.value IS NOT NULL AND f.value <> ''
        ON CONFLICT (player_id, kind, value) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(update_sql)
        updated = max(cursor.rowcount, 0)
        cursor.execute(insert_sql, [reporting, now, now])
        created = max(cursor.rowcount, 0)
        cursor.execute(fingerprints_sql, [now])
    return created, updated


def affected_player_ids(*, job_id: int) -> list[int] | None:
    """Primary keys of the players the job's staged rows name (None when the stage is gone)."""
    if not stage_exists(job_id=job_id):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id FROM players_player p WHERE p.external_id IN "
            f"(SELECT DISTINCT player_id FROM {stage_table(job_id)}) ORDER BY p.id"
        )
        return [row[0] for row in cursor.fetchall()]
