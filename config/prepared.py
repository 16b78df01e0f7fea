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
"""

import sys
import time

from django.db import DEFAULT_DB_ALIAS, connections


def fetch(sql: str, params: list) -> list[tuple]:
    """Rows of `sql` (a statement that returns rows) run as a prepared statement on the default
    connection."""
    from psycopg import Cursor

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
    cursor = Cursor(raw)
    try:
        with db.wrap_database_errors:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()
    finally:
        cursor.close()
        if db.queries_logged:
            db.queries_log.append(
                {"sql": sql, "params": params, "time": f"{time.monotonic() - started:.3f}"}
            )
