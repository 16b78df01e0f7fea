"""Hot statements as server-side prepared statements (PostgreSQL only): the wallet's lock,
posting and balances statements, a player's detail (`players.selectors.player_detail`).

Django's psycopg cursors bind parameters client-side, so PostgreSQL parses and plans the lock
and posting statements on every call: about 0.5 ms and 0.35 ms of server CPU, several times
their execution time (EXPLAIN ANALYZE). `fetch` runs a statement through a server-binding
psycopg cursor with `prepare=True` on Django's connection (same session, same transaction):
each connection parses and plans it once and afterwards sends only the parameters. Errors are
translated to Django's exceptions and, when Django logs queries (DEBUG, tests'
CaptureQueriesContext), the statement is logged like any other.

psycopg deallocates its prepared statements after a rollback (a refused operation), so the next
call on that connection prepares again: the cost of the unprepared path, once.

Each statement keeps its cursor on the connection (per thread, as Django's connections are;
at most `MAX_KEPT` statements, all of them module constants today): psycopg then reuses the
cursor's adaptation context (`Transformer`: the dumpers and loaders it looked up for the
statement's parameter and column types) when the same statement runs again, as it does for
repeated `execute` calls of one cursor — about 30 Python calls per statement fewer than a new
cursor each time, a tenth of an event's statement work (ADR 0029). The kept cursor holds the
statement's last rows until its next run; a new connection (after a close) starts afresh.
"""

import sys
import threading
import time

from django.db import DEFAULT_DB_ALIAS, connections

MAX_KEPT = 32  # statements whose cursor a connection keeps; a statement beyond gets a fresh one
_kept = threading.local()  # .connection: the psycopg connection; .cursors: sql -> its cursor


def _cursor(raw, sql: str):
    """The cursor this thread's connection `raw` keeps for `sql` (see the module docstring)."""
    from psycopg import Cursor

    if getattr(_kept, "connection", None) is not raw:  # a new connection: the old ones go
        _kept.connection, _kept.cursors = raw, {}
    cursor = _kept.cursors.get(sql)
    if cursor is None:
        cursor = Cursor(raw)
        if len(_kept.cursors) < MAX_KEPT:
            _kept.cursors[sql] = cursor
    return cursor


def fetch(sql: str, params: list) -> list[tuple]:
    """Rows of `sql` (a statement that returns rows) run as a prepared statement on the default
    connection."""
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: `connection` is a per-access proxy
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparing off (threshold None), which makes psycopg
        # ignore prepare=True as well; a threshold nothing reaches keeps automatic preparing
        # off (Django's client-side cursors never prepare) and lets prepare=True through.
        raw.prepare_threshold = sys.maxsize
    started = time.monotonic()
    cursor = _cursor(raw, sql)
    try:
        with db.wrap_database_errors:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()
    finally:
        if cursor is not _kept.cursors.get(sql):
            cursor.close()
        if db.queries_logged:
            db.queries_log.append(
                {"sql": sql, "params": params, "time": f"{time.monotonic() - started:.3f}"}
            )
