"""Scratch databases and bulk loading for the benchmarks.

`scratch_database("metrics")` creates `<DATABASE_URL's name>_metrics`, migrates it with the
project's migrations, points Django's default connection at it for the duration, and drops it
afterwards — the database in DATABASE_URL is never written to. `load_casino()` COPYs generated
players and activity into the migrated tables, with the activity indexes rebuilt after the load
(as a restore would) so that loading 5,000,000 rows takes well under a minute.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import psycopg
from django.core.management import call_command
from django.db import connection, connections

from bench.generate import CATEGORIES, TYPES, Casino

CHUNK = 500_000


def _admin(dbname: str = "postgres") -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = dbname
    return psycopg.connect(**params, autocommit=True)


def drop_database(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(suffix: str, *, keep: bool = False) -> Iterator[str]:
    """A freshly migrated database `<name>_<suffix>`, Django's default connection on it.

    It is dropped afterwards unless `keep` or the environment sets BENCH_KEEP_DB=1 (to
    profile on the loaded data).
    """
    keep = keep or os.environ.get("BENCH_KEEP_DB") == "1"
    default = connections["default"]
    original = default.settings_dict["NAME"]
    name = f"{original}_{suffix}"
    drop_database(name)
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    default.close()
    default.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield name
    finally:
        default.close()
        default.settings_dict["NAME"] = original
        if not keep:
            drop_database(name)


def _copy(table: str, columns: list[str], frames: Iterator[pd.DataFrame]) -> None:
    """COPY text-format rows into `table` on Django's default connection."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for frame in frames:
            buffer = io.StringIO()
            frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
            copy.write(buffer.getvalue())


def _secondary_indexes(table: str) -> list[tuple[str, str, str | None]]:
    """(name, CREATE statement, constraint name or None) of every non-primary-key index."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid), c.conname,
                   CASE WHEN c.conname IS NOT NULL THEN pg_get_constraintdef(c.oid) END
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype = 'u'
            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
            """,
            [table],
        )
        return [
            (
                index,
                f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}"
                if constraint
                else create,
                constraint,
            )
            for index, create, constraint, definition in cursor.fetchall()
        ]


def load_casino(casino: Casino, *, source: str = "import:bench") -> dict[str, float]:
    """COPY the casino's players, fingerprints and activity; returns seconds per step."""
    timings: dict[str, float] = {}
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    players = casino.players_frame()
    ids = np.arange(1, casino.player_count + 1)
    _copy(
        "players_player",
        [
            "id",
            "external_id",
            "username",
            "email",
            "country",
            "currency_id",
            "registered_at",
            "status",
            "segment",
            "risk_score",
            "no_bonus",
            "created_at",
        ],
        iter(
            [
                pd.DataFrame(
                    {
                        "id": ids,
                        "external_id": players["player_id"],
                        "username": players["username"],
                        "email": players["email"],
                        "country": players["country"],
                        "currency_id": players["currency"],
                        "registered_at": players["registered_at"],
                        "status": players["status"],
                        "segment": "new",
                        "risk_score": 0,
                        "no_bonus": "f",
                        "created_at": now,
                    }
                )
            ]
        ),
    )
    fingerprints = casino.fingerprints
    _copy(
        "players_fingerprint",
        ["player_id", "kind", "value", "first_seen_at"],
        iter(
            [
                pd.DataFrame(
                    {
                        "player_id": fingerprints["player"] + 1,
                        "kind": fingerprints["kind"],
                        "value": fingerprints["value"],
                        "first_seen_at": now,
                    }
                )
            ]
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('players_player', 'id'), %s)",
            [casino.player_count],
        )
    timings["players"] = time.perf_counter() - started

    started = time.perf_counter()
    indexes = _secondary_indexes("players_activity")
    with connection.cursor() as cursor:
        for index, _, constraint in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE players_activity DROP CONSTRAINT {constraint}")
            else:
                cursor.execute(f"DROP INDEX {index}")
        # Foreign keys are known good (the ids were just written): skip their per-row triggers.
        cursor.execute("SET session_replication_role = replica")
    try:
        _copy("players_activity", ACTIVITY_COLUMNS, _activity_frames(casino, source, now))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    timings["activity_copy"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, create, _ in indexes:
            cursor.execute(create)
        cursor.execute("RESET maintenance_work_mem")
    timings["activity_indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    vacuum_analyze("players_activity", "players_player", "players_fingerprint")
    timings["vacuum_analyze"] = time.perf_counter() - started
    return timings


def vacuum_analyze(*tables: str) -> None:
    """VACUUM ANALYZE `tables` (none: the whole database). VACUUM cannot run in a
    transaction: use a separate autocommit connection."""
    with _admin(connection.settings_dict["NAME"]) as admin:
        for table in tables or ("",):
            admin.execute(f"VACUUM ANALYZE {table}")


ACTIVITY_COLUMNS = [
    "source",
    "external_id",
    "player_id",
    "type",
    "amount",
    "currency_id",
    "player_amount",
    "occurred_at",
    "game_id",
    "game_category",
    "round_id",
    "reference_id",
    "count",
    "created_at",
]


def _activity_frames(casino: Casino, source: str, now: str) -> Iterator[pd.DataFrame]:
    types = TYPES.astype(object)
    categories = np.append(CATEGORIES, "").astype(object)
    for start in range(0, casino.activity_count, CHUNK):
        stop = min(start + CHUNK, casino.activity_count)
        frame = casino.activity_frame(start, stop)
        amount = frame["amount"]
        yield pd.DataFrame(
            {
                "source": source,
                "external_id": frame["external_id"],
                "player_id": casino.row_player[start:stop] + 1,
                "type": types[casino.row_type[start:stop]],
                "amount": amount,
                "currency_id": frame["currency"],
                "player_amount": amount,  # the player's own currency: no conversion
                "occurred_at": frame["occurred_at"],
                "game_id": frame["game_id"],
                "game_category": categories[casino.row_category[start:stop]],
                "round_id": "",
                "reference_id": "",
                "count": 1,
                "created_at": now,
            }
        )
