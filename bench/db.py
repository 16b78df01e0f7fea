"""Scratch databases and bulk loading for the benchmarks.

`scratch_database("metrics")` creates `<DATABASE_URL's name>_metrics`, points Django's default
connection at it for the duration, and drops it afterwards — the database in DATABASE_URL is
never written to. The scratch database is a copy (`CREATE DATABASE … TEMPLATE`) of a template
database `<name>_template` that was migrated with the project's migrations once per server
within `migrated_templates()` (the runner holds one for the whole run; outside it, each scratch
database migrates a template of its own). `load_casino()` COPYs generated players and activity
into the migrated tables, with the activity indexes rebuilt after the load (as a restore would)
so that loading 5,000,000 rows takes well under a minute.
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


def _admin_params(dbname: str = "postgres") -> dict:
    """psycopg connection parameters for `dbname` on the server of Django's default connection."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = dbname
    return params


def _admin(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(**_admin_params(dbname), autocommit=True)


def drop_database(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# server (host, port) → (template database name, admin connection parameters), while
# `migrated_templates()` is open; None outside it.
_templates: dict[tuple[str, str], tuple[str, dict]] | None = None


def _server() -> tuple[str, str]:
    settings = connections["default"].settings_dict
    return (settings["HOST"] or "", str(settings["PORT"] or ""))


@contextmanager
def migrated_templates(*, own: bool = False) -> Iterator[None]:
    """For its duration, every scratch database on a server is a copy of one template database
    `<name>_template` on that server, migrated when the first scratch database there is made;
    the templates are dropped at the end, so enter it inside any cluster it may use. Inside
    another `migrated_templates()` it is that one, unless `own` (a cluster that lives shorter
    than the outer one: its template is dropped before the cluster stops)."""
    global _templates
    if _templates is not None and not own:
        yield
        return
    outer, _templates = _templates, {}
    try:
        yield
    finally:
        templates, _templates = _templates, outer
        for name, params in templates.values():
            with psycopg.connect(**params, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def template_database() -> tuple[str, float]:
    """The migrated template database of the server Django's default connection is on, made
    now if this `migrated_templates()` has none there yet; → (its name, seconds spent making it
    now: 0 when it existed).

    A template left over by a killed run is dropped and made again: its migrations may not be
    this checkout's. Once migrated, it takes no connections (`ALLOW_CONNECTIONS false`: a copy
    fails while another session is connected to its source), and Django's connections are
    closed."""
    if _templates is None:
        raise RuntimeError("template_database() outside migrated_templates()")
    server = _server()
    if server in _templates:
        return _templates[server][0], 0.0
    started = time.perf_counter()
    default = connections["default"]
    original = default.settings_dict["NAME"]
    name = f"{original}_template"
    drop_database(name)
    params = _admin_params()
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    default.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False)
    except BaseException:
        connections.close_all()
        default.settings_dict["NAME"] = original
        drop_database(name)
        raise
    connections.close_all()
    default.settings_dict["NAME"] = original
    with _admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    _templates[server] = (name, params)
    return name, time.perf_counter() - started


@contextmanager
def scratch_database(suffix: str, *, keep: bool = False) -> Iterator[str]:
    """A migrated database `<name>_<suffix>`, Django's default connection on it: a copy of
    the server's migrated template (`template_database()`).

    It is dropped afterwards unless `keep` or the environment sets BENCH_KEEP_DB=1 (to
    profile on the loaded data).
    """
    keep = keep or os.environ.get("BENCH_KEEP_DB") == "1"
    default = connections["default"]
    original = default.settings_dict["NAME"]
    name = f"{original}_{suffix}"
    with migrated_templates():
        template, migrating = template_database()
        started = time.perf_counter()
        drop_database(name)
        connections.close_all()
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        print(
            f"   scratch database {name}: "
            + (f"migrated {template} in {migrating:.1f}s, " if migrating else "")
            + f"copied from it in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        default.settings_dict["NAME"] = name
        try:
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
