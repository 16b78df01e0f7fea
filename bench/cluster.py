"""A dedicated PostgreSQL cluster configured for production, and what it waits on under load.

This machine's PostgreSQL is a CI image's: autovacuum off (its conf.d says so). Production never
runs that way, so the wallet, API and soak benchmarks — the ones whose rate depends on dead
tuples and hot rows — run on a cluster of their own, created with `initdb` in a temporary
directory, on its own port, with the settings docs/operations.md recommends
(`PRODUCTION_SETTINGS`), and removed afterwards; pgbench runs on the same cluster in the same
run. The runner (bench/__main__.py) starts one for the whole run and calls `cluster_reset`
before each of those benchmarks (ADR 0028); `python -m bench --cluster per-module` starts one
per benchmark, `--cluster machine` uses the machine's cluster instead (to compare).

`PgSampler` samples `pg_stat_activity` wait events every half second and `pg_stat_user_tables`
(dead tuples, HOT updates, autovacuum runs) at the start and end of each phase: the evidence for
or against "hot rows, dead tuples, multixacts" as the cause of a falling rate.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.common import free_port

# docs/operations.md "PostgreSQL settings", sized for this 2-core / 24 GiB benchmark machine.
PRODUCTION_SETTINGS = {
    "shared_buffers": "2GB",
    "effective_cache_size": "12GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "min_wal_size": "1GB",
    "checkpoint_completion_target": "0.9",
    "wal_buffers": "16MB",
    "random_page_cost": "1.1",
    "autovacuum": "on",
    "autovacuum_naptime": "10s",
    "autovacuum_vacuum_scale_factor": "0.05",
    "autovacuum_analyze_scale_factor": "0.05",
    "autovacuum_vacuum_cost_limit": "2000",
    "max_connections": "200",
    "synchronous_commit": "on",
    "fsync": "on",
    "track_io_timing": "on",
}


def _binary(name: str) -> str | None:
    return shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )


def available() -> bool:
    return _binary("initdb") is not None and _binary("pg_ctl") is not None


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def production_cluster() -> Iterator[int]:
    """A running production-configured cluster on a free port (yielded); removed afterwards."""
    directory = tempfile.mkdtemp(prefix="pitboss-bench-pg-")
    data = os.path.join(directory, "data")
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [_binary("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    settings = {
        **PRODUCTION_SETTINGS,
        "port": str(port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{directory}'",
    }
    with open(os.path.join(data, "postgresql.conf"), "a") as conf:
        conf.write("\n# pitboss bench: production settings (docs/operations.md)\n")
        conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
    log = os.path.join(directory, "server.log")
    subprocess.run(
        _as_postgres([_binary("pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield port
    finally:
        subprocess.run(
            _as_postgres([_binary("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def django_on(port: int) -> Iterator[None]:
    """Point Django's default connection (and so the scratch databases and pgbench, which read
    it) at 127.0.0.1:`port` for the duration."""
    from django.db import connections

    default = connections["default"]
    saved = {key: default.settings_dict[key] for key in ("HOST", "PORT", "USER", "PASSWORD")}
    default.close()
    default.settings_dict.update(HOST="127.0.0.1", PORT=str(port), USER="postgres", PASSWORD="")
    name = default.settings_dict["NAME"]
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        default.close()
        default.settings_dict.update(saved)


def cluster_reset(dsn_kwargs: dict) -> None:
    """Make a running cluster look, to the next benchmark, as a fresh one would: write out
    every dirty buffer (`CHECKPOINT`, so no earlier benchmark's writes are checkpointed during
    this one's) and zero the cluster-wide counters (bgwriter/checkpointer, WAL) that a
    benchmark reads as deltas. Per-table statistics need no reset: each benchmark has a new
    scratch database."""
    with psycopg.connect(**dsn_kwargs, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        conn.execute("SELECT pg_stat_reset_shared('bgwriter')")
        conn.execute("SELECT pg_stat_reset_shared('wal')")


def settings_in_force(dsn_kwargs: dict) -> dict[str, str]:
    """The server's values of the settings that matter here (printed with the results)."""
    names = ["autovacuum", "shared_buffers", "work_mem", "max_wal_size", "synchronous_commit"]
    with psycopg.connect(**dsn_kwargs, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", [names]
        ).fetchall()
    return {name: f"{setting}{unit or ''}" for name, setting, unit in rows}


TABLE_STATS = """
SELECT relname, n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, autovacuum_count
  FROM pg_stat_user_tables WHERE relname = ANY(%s)
"""


class PgSampler:
    """Wait events of the benchmark's database (sampled) and table statistics (per phase)."""

    def __init__(self, dsn_kwargs: dict, tables: list[str], interval: float = 0.5) -> None:
        self.dsn_kwargs, self.tables, self.interval = dsn_kwargs, tables, interval
        self.waits: Counter = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def table_stats(self) -> dict[str, dict]:
        with psycopg.connect(**self.dsn_kwargs, autocommit=True) as conn:
            rows = conn.execute(TABLE_STATS, [self.tables]).fetchall()
        keys = ("live", "dead", "updated", "hot_updated", "autovacuums")
        return {name: dict(zip(keys, values, strict=True)) for name, *values in rows}

    def _run(self) -> None:
        with psycopg.connect(**self.dsn_kwargs, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                self.waits.update(f"{kind}:{event}" for kind, event in rows)

    def start(self) -> PgSampler:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def top_waits(self, count: int = 5) -> str:
        """The most sampled wait events as shares of active backends' samples."""
        total = sum(self.waits.values()) or 1
        return ", ".join(
            f"{event} {100 * seen / total:.0f}%" for event, seen in self.waits.most_common(count)
        )


WRITE_COUNTERS = (
    "wal_bytes",
    "wal_fpi",
    "checkpoints",
    "buffers_checkpoint",
    "buffers_clean",
    "buffers_backend",
)
WRITE_COUNTERS_SQL = """
SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint, w.wal_fpi,
       b.checkpoints_timed + b.checkpoints_req,
       b.buffers_checkpoint, b.buffers_clean, b.buffers_backend
  FROM pg_stat_wal w, pg_stat_bgwriter b
"""


def write_counters(cursor) -> dict[str, int]:
    """The cluster's write counters (PostgreSQL 14 to 16), read through `cursor` (Django's or
    psycopg's): WAL bytes (the insert position, exact at once; pg_stat_wal's count waits for
    each backend's next statistics report) and full-page images, checkpoints completed, and the 8 kB buffers
    written by checkpoints, the background writer and backends. Differences between two
    readings tell what a timed stretch cost the server beyond its statements."""
    cursor.execute(WRITE_COUNTERS_SQL)
    return dict(zip(WRITE_COUNTERS, cursor.fetchone(), strict=True))


def dsn_kwargs_of_django() -> dict:
    from django.db import connection

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "options"):
        params.pop(key, None)
    return params
