"""Soak (issue 12, item 5): ten minutes of mixed load at full scale; does it stay steady?

    DATABASE_URL=postgres://… python -m bench --only soak [--scale 0.01]

On the dedicated production-configured cluster (bench/cluster.py: autovacuum on, as in
production), a scratch database `<name>_soak` gets a casino of 100,000 players × scale with
20 activity rows each and their metrics and segments (bench/api.py's `casino_prepare`), and
bench/rules.py's 20 rules; the whole database is then vacuumed and analysed, and gunicorn serves
it as in bench/api.py (Celery publishes the after-event refresh to `BENCH_BROKER_URL`; no worker
takes it). For 600 s × scale (at least 20 s), at once:

- one open-loop stream (bench/api.py's `open_loop`: latency from when a request was due)
  interleaving single `POST events/` (per player a deposit, a bet, a win settling that bet) at
  `EVENT_RATE` and `GET players/{id}/` at `READ_RATE`;
- one `POST events/` batch of 1,000 events (200 below scale 0.1; bench/api.py's
  `batch_sequence`: deposits, withdrawals, bets, wins) in the middle of each time slice;
- one CSV import (bench/importer.py's generated file, 200,000 rows × scale) run in a spawned
  worker process as bench/importer.py runs it, started after the first slice;
- one rule run over all players with the 20 rules, through bench/rules.py's chunked path in one
  forked worker process (a Celery worker beside the web server), started half-way.

The load is cut into 10 time slices (a minute each at full scale); each slice reports the
count, errors, p50 and p95 of events and reads, and the batch's time; the database's wait
events are sampled throughout (bench/cluster.py's PgSampler). The results: the last
slice's p95 against the first's, for events and for reads (target: within 25%, and no errors),
and the dead-tuple share of the hot tables (the 6 with the most updates and deletes during the
soak: the writes that leave dead tuples) at the end,
with their autovacuum runs and the growth of their table and index sizes (and pgstattuple's
view when the extension is available; the notes add the growth of the two most inserted
tables), against a target of ≤ 10% (twice the production
`autovacuum_vacuum_scale_factor` of 0.05). Verdicts at full scale only.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

import numpy as np
import psycopg

from bench.common import BenchResult

OWN_DATABASE = True  # a scratch database of its own, loaded by COPY (bench/db.py)
PRODUCTION_CLUSTER = True  # autovacuum on, as production (bench/cluster.py)
EVENT_RATE = float(os.environ.get("BENCH_SOAK_EVENT_RATE", "25"))  # single events per second
READ_RATE = float(os.environ.get("BENCH_SOAK_READ_RATE", "25"))  # player reads per second
SECONDS = 600.0  # at scale 1
MIN_SECONDS = 20.0
SLICES = 10
PLAYERS = 100_000
IMPORT_ROWS = 200_000
RULE_WORKERS = 1  # one Celery worker process beside the web server
HOT_TABLES = 6
TARGET_DRIFT = 1.25  # last slice p95 <= 1.25 × first slice p95
TARGET_DEAD_SHARE = 0.10
WARMUP = 3.0  # seconds of the stream before the measured load (workers' first requests)


@dataclass
class SliceFigures:
    """One time slice of one request kind: served (HTTP 200) requests, errors, latencies."""

    index: int
    start: float  # seconds from the start of the measured load
    count: int
    errors: int
    p50: float  # ms; nan when nothing was served
    p95: float


def slice_figures(
    records: Iterable[tuple[float, int, float]], seconds: float, slices: int = SLICES
) -> list[SliceFigures]:
    """Cut `records` — (seconds from the start of the load when the request was due, HTTP
    status, latency in ms) — into `slices` equal slices of `seconds`; → per slice the count of
    200 answers, the errors (any other status: 0 a connection failure, -1 dropped unsent), and
    the p50 and p95 latency of the 200s (linear interpolation, nan for an empty slice). A
    record due at or after `seconds` counts in the last slice, one before 0 in the first."""
    width = seconds / slices
    latencies: list[list[float]] = [[] for _ in range(slices)]
    errors = [0] * slices
    for offset, status, latency in records:
        index = min(slices - 1, max(0, int(offset // width)))
        if status == 200:
            latencies[index].append(latency)
        else:
            errors[index] += 1
    return [
        SliceFigures(
            index=index,
            start=index * width,
            count=len(values),
            errors=errors[index],
            p50=float(np.percentile(values, 50)) if values else math.nan,
            p95=float(np.percentile(values, 95)) if values else math.nan,
        )
        for index, values in enumerate(latencies)
    ]


def drift(figures: list[SliceFigures]) -> float:
    """The last slice's p95 over the first's (nan if either is empty)."""
    return figures[-1].p95 / figures[0].p95 if figures[0].p95 else math.nan


def is_event(index: int, event_share: float) -> bool:
    """Whether request `index` of the interleaved stream is an event (else a read): events are
    spread evenly, `event_share` of the requests. Event number: floor(index × share)."""
    return math.floor((index + 1) * event_share) > math.floor(index * event_share)


@dataclass
class Background:
    """One action started `at` seconds into the load, in a thread of its own."""

    name: str
    at: float
    action: Callable[[], str]
    started: float = math.nan
    ended: float = math.nan
    outcome: str = "not started"
    failed: bool = False

    def start(self, t0: float) -> threading.Thread:
        def body() -> None:
            from django.db import connections

            time.sleep(max(0.0, t0 + self.at - time.perf_counter()))
            self.started = time.perf_counter() - t0
            try:
                self.outcome = self.action()
            except Exception as error:  # noqa: BLE001 - reported with the figures
                self.failed, self.outcome = True, f"FAILED: {error!r}"
            finally:
                self.ended = time.perf_counter() - t0
                connections.close_all()

        thread = threading.Thread(target=body, name=self.name, daemon=True)
        thread.start()
        return thread

    def covers(self, start: float, end: float) -> bool:
        return self.started < end and (math.isnan(self.ended) or self.ended > start)


TABLE_FIGURES = """
SELECT relname, n_live_tup, n_dead_tup, n_tup_ins, n_tup_upd + n_tup_del, autovacuum_count,
       autoanalyze_count, pg_relation_size(relid), pg_indexes_size(relid)
  FROM pg_stat_user_tables
"""


def table_figures(dsn: dict) -> dict[str, dict]:
    """Every user table's statistics and sizes (bytes) in the database of `dsn`."""
    keys = (
        "live",
        "dead",
        "inserts",
        "changes",
        "autovacuums",
        "autoanalyzes",
        "size",
        "index_size",
    )
    with psycopg.connect(**dsn, autocommit=True) as conn:
        rows = conn.execute(TABLE_FIGURES).fetchall()
    return {name: dict(zip(keys, values, strict=True)) for name, *values in rows}


def pgstattuple_figures(dsn: dict, tables: list[str]) -> dict[str, str]:
    """pgstattuple's view of `tables` when the cluster has the extension: the dead-tuple and
    free-space share of each table (pgstattuple_approx) and the lowest leaf density of its
    B-tree indexes (pgstatindex); {} when the extension is not available."""
    figures = {}
    with psycopg.connect(**dsn, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        except psycopg.Error:
            return {}
        for table in tables:
            dead, free = conn.execute(
                "SELECT dead_tuple_percent, approx_free_percent "
                "FROM pgstattuple_approx(%s::regclass)",
                [table],
            ).fetchone()
            (density,) = conn.execute(
                "SELECT min((pgstatindex(i.indexrelid::regclass)).avg_leaf_density) "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = %s::regclass "
                "AND a.amname = 'btree'",
                [table],
            ).fetchone()
            figures[table] = f"dead {dead:.1f}% free {free:.1f}%" + (
                f" leaf density >= {density:.0f}%" if density is not None else ""
            )
    return figures


def server_counters_start(dsn: dict, t0: float, width: float) -> tuple[list, threading.Thread]:
    """A thread reading the cluster's write counters (bench/cluster.py `write_counters`) at each
    slice boundary; → (the readings, filled as the load runs, and the thread). What a slice
    cost the server's disk beside its requests: a checkpoint writing out an import's or a rule
    run's pages, full-page images after it."""
    from bench.cluster import write_counters

    readings: list[dict[str, int]] = []

    def body() -> None:
        with psycopg.connect(**dsn, autocommit=True) as conn, conn.cursor() as cursor:
            for boundary in range(SLICES + 1):
                time.sleep(max(0.0, t0 + boundary * width - time.perf_counter()))
                readings.append(write_counters(cursor))

    thread = threading.Thread(target=body, name="server-counters", daemon=True)
    thread.start()
    return readings, thread


def run(scale: float = 1.0) -> list[BenchResult]:
    from django.db import connections

    from bench.api import _purge_queue, casino_prepare, gunicorn, open_loop, service_token
    from bench.cluster import PgSampler, dsn_kwargs_of_django
    from bench.db import scratch_database, vacuum_analyze
    from bench.importer import _write_csv
    from bench.rules import _rules
    from players.money import currencies_forget

    seconds = max(MIN_SECONDS, SECONDS * scale)
    width = seconds / SLICES
    players = max(1_000, int(PLAYERS * scale))
    import_rows = max(2_000, int(IMPORT_ROWS * scale))
    batch_size = 1_000 if scale >= 0.1 else 200
    rate = EVENT_RATE + READ_RATE
    currencies_forget()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, scratch_database("soak") as database:
        database_ready = time.perf_counter() - started
        casino = casino_prepare(players, seed=29)
        rule_ids = [rule.pk for rule in _rules()]
        token = service_token("bench-soak")
        csv_path = os.path.join(folder, "activity.csv")
        _write_csv(csv_path, import_rows)
        vacuum_analyze()
        dsn = dsn_kwargs_of_django()
        before = table_figures(dsn)
        connections.close_all()
        print(
            f"   {players:,} players, {casino.activity_count:,} activities, {len(rule_ids)} "
            f"rules; load for {seconds:g} s in {SLICES} slices of {width:g} s: "
            f"{EVENT_RATE:g} events/s + {READ_RATE:g} reads/s (open loop), a {batch_size}-event "
            f"batch per slice, a {import_rows:,}-row CSV import at {width:g} s, a rule run "
            f"({RULE_WORKERS} worker) at {seconds / 2:g} s; setup {database_ready:.0f} s database + "
            f"{time.perf_counter() - started - database_ready:.0f} s data; load average {_load()}",
            flush=True,
        )
        with gunicorn(database) as base_url:
            host, port = urlparse(base_url).hostname, urlparse(base_url).port
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            load = _Load(casino, rate, batch_size)
            background = [
                Background("import", width, lambda: _import(csv_path)),
                Background("rule run", seconds / 2, lambda: _rule_run(rule_ids)),
            ]
            t0 = time.perf_counter() + 0.05 + WARMUP  # open_loop's measured load starts then
            threads = [task.start(t0) for task in background]
            threads.append(load.batches_start(host, port, headers, t0, width))
            counters, counting = server_counters_start(dsn, t0, width)
            threads.append(counting)
            sampler = PgSampler(dsn, []).start()
            sample = open_loop(
                host, port, headers, load.request, rate=rate, seconds=seconds, warmup=WARMUP
            )
            for thread in threads:
                thread.join()
            sampler.stop()
        _purge_queue()
        time.sleep(1)  # the server's backends have exited and flushed their statistics
        after = table_figures(dsn)
        hot = _hot_tables(before, after, "changes", HOT_TABLES)
        grown = [name for name in _hot_tables(before, after, "inserts", 2) if name not in hot]
        stattuple = pgstattuple_figures(dsn, hot + grown)

    records: dict[str, list] = {"events": [], "reads": []}
    refused: dict[str, Counter] = {"events": Counter(), "reads": Counter()}
    for index, status, latency in sample.timeline:
        kind = "events" if is_event(index, load.event_share) else "reads"
        records[kind].append((index / rate - WARMUP, status, latency))
        if status != 200:
            refused[kind][status] += 1
    figures = {kind: slice_figures(records[kind], seconds) for kind in records}
    _print_slices(figures, load.batch_seconds, background, width, counters)
    for task in background:
        print(f"   {task.name}: {task.started:.0f}-{task.ended:.0f} s, {task.outcome}", flush=True)
    waits = sampler.top_waits()
    print(f"   active backends' wait events ({sampler.samples} samples): {waits}", flush=True)
    full = scale >= 1
    results = [
        _drift_result(kind, figures[kind], rate_of, dict(refused[kind]), full)
        for kind, rate_of in (("events", EVENT_RATE), ("reads", READ_RATE))
    ]
    results[0].notes += f"; database waits {waits}"
    for result in results[:2]:
        overlapping = [
            f"{task.name} overlapped the {which} slice"
            for which, start in (("first", 0.0), ("last", seconds - width))
            for task in background
            if task.covers(start, start + width)
        ]
        if overlapping:
            result.notes += "; " + ", ".join(overlapping)
    results.append(_bloat_result(before, after, hot, grown, stattuple, full))
    if any(task.failed for task in background):
        failed = "; ".join(f"{t.name} {t.outcome}" for t in background if t.failed)
        raise RuntimeError(f"a background action of the soak failed: {failed}")
    return results


class _Load:
    """The requests of the soak: the interleaved open-loop stream and the batches."""

    def __init__(self, casino, rate: float, batch_size: int) -> None:
        self.player_ids = casino.player_ids()
        self.currency = casino.player_currency
        self.count = casino.player_count
        self.event_share = EVENT_RATE / rate if rate else 0.0
        self.batch_size = batch_size
        self.batch_seconds: dict[int, float] = {}
        rng = np.random.default_rng(31)
        self.picks = rng.integers(0, self.count, size=int(rate * (SECONDS + 60)) + 10)
        self.now = datetime.now(UTC).isoformat()
        self.tag = f"soak-{os.getpid()}"

    def request(self, index: int) -> tuple[str, str, bytes | None]:
        number = math.floor(index * self.event_share)
        if not is_event(index, self.event_share):
            who = self.picks[(index - number) % len(self.picks)]
            return "GET", f"/api/v1/players/{self.player_ids[who]}/", None
        who = self.picks[(number // 3) % len(self.picks)]
        kind = ("deposit", "bet", "win")[number % 3]
        body = {
            "external_id": f"{self.tag}-{number}",
            "player_id": str(self.player_ids[who]),
            "type": kind,
            "amount": {"deposit": "50.00", "bet": "1.00", "win": "2.00"}[kind],
            "currency": str(self.currency[who]),
            "occurred_at": self.now,
        }
        if kind != "deposit":
            body.update(game_id="slots-1", game_category="slots")
        if kind == "win":  # settles the bet just before it
            body["reference_id"] = f"{self.tag}-{number - 1}"
        return "POST", "/api/v1/events/", json.dumps(body).encode()

    def batch(self, number: int) -> bytes:
        from bench.api import batch_sequence

        rng = np.random.default_rng(100 + number)
        players = max(10, self.batch_size // 10)
        chosen = rng.choice(self.count, size=players, replace=False)
        events = []
        for fields in batch_sequence(
            rng, players, self.batch_size, wins=True, tag=f"{self.tag}-b{number}"
        ):
            who = chosen[fields.pop("player")]
            events.append(
                {
                    **{
                        k: v.format(side="s") if isinstance(v, str) else v
                        for k, v in fields.items()
                    },
                    "player_id": str(self.player_ids[who]),
                    "currency": str(self.currency[who]),
                    "occurred_at": self.now,
                }
            )
        return json.dumps({"events": events}).encode()

    def batches_start(self, host, port, headers, t0: float, width: float) -> threading.Thread:
        """A thread sending one batch in the middle of each slice; its time (client side, end
        to end) goes to `batch_seconds[slice]` (nan if the answer was not a 200)."""

        def body() -> None:
            for number in range(SLICES):
                payload = self.batch(number)
                time.sleep(max(0.0, t0 + (number + 0.5) * width - time.perf_counter()))
                # a connection per batch: the server closes an idle one after 2 s
                connection = http.client.HTTPConnection(host, port, timeout=120)
                started = time.perf_counter()
                try:
                    connection.request("POST", "/api/v1/events/", payload, headers)
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                finally:
                    connection.close()
                elapsed = time.perf_counter() - started
                self.batch_seconds[number] = elapsed if ok else math.nan

        thread = threading.Thread(target=body, name="batches", daemon=True)
        thread.start()
        return thread


def _import(path: str) -> str:
    from bench.importer import _import_in_worker

    result = _import_in_worker(path)
    return (
        f"{result['status']}, {result['stored']:,} rows stored in {result['seconds']:.1f} s "
        f"(+ {result['after']:.1f} s after the load), worker peak RSS "
        f"{result['peak_rss_mb']:.0f} MB ({result['rss_start_mb']:.0f} MB before the import)"
    )


def _rule_run(rule_ids: list[int]) -> str:
    from bench.rules import _run_in_workers
    from rewards.services import run_create

    job = run_create(rule_ids=rule_ids, start=False)
    _run_in_workers(job.pk, workers=RULE_WORKERS)
    job.refresh_from_db()
    if job.status != "succeeded":
        raise RuntimeError(f"rule run {job.pk} {job.status}: {job.error}")
    return f"{job.players_done:,} players × {len(rule_ids)} rules, {job.issued:,} issued"


def _load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def _print_slices(
    figures, batch_seconds: dict[int, float], background, width: float, counters: list
) -> None:
    """The per-slice table; the server columns are MB written by checkpoints, by the
    background writer and by backends themselves (8 kB buffers), checkpoints completed, MB of
    WAL and full-page images, during the slice."""
    print(
        f"   {'slice':>9} {'events':>6} {'err':>4} {'p50':>7} {'p95':>7}   {'reads':>6} "
        f"{'err':>4} {'p50':>7} {'p95':>7}   {'batch s':>7}  {'ckpt/bgw/backend MB':>19} "
        f"{'ckpts':>5} {'WAL MB':>6} {'FPI':>6}  running",
        flush=True,
    )
    for events, reads in zip(figures["events"], figures["reads"], strict=True):
        running = ", ".join(
            task.name for task in background if task.covers(events.start, events.start + width)
        )
        server = ""
        if len(counters) > events.index + 1:
            before, after = counters[events.index], counters[events.index + 1]
            delta = {name: after[name] - before[name] for name in after}
            written = "/".join(
                f"{delta[name] * 8 / 1024:.0f}"
                for name in ("buffers_checkpoint", "buffers_clean", "buffers_backend")
            )
            server = (
                f"{written:>19} {delta['checkpoints']:>5} {delta['wal_bytes'] / 1e6:>6.0f} "
                f"{delta['wal_fpi']:>6}"
            )
        print(
            f"   {events.start:>4.0f}-{events.start + width:<4.0f} {events.count:>6} "
            f"{events.errors:>4} {events.p50:>7.1f} {events.p95:>7.1f}   {reads.count:>6} "
            f"{reads.errors:>4} {reads.p50:>7.1f} {reads.p95:>7.1f}   "
            f"{batch_seconds.get(events.index, math.nan):>7.2f}  {server}  {running}",
            flush=True,
        )


def _drift_result(
    kind: str, figures: list[SliceFigures], rate: float, refused: dict, full: bool
) -> BenchResult:
    errors = sum(f.errors for f in figures)
    ratio = drift(figures)
    return BenchResult(
        name=f"soak.{kind}_p95_last_vs_first",
        measured=figures[-1].p95,
        unit="ms",
        baseline=figures[0].p95,
        baseline_name="first slice p95",
        target=f"last slice p95 <= {TARGET_DRIFT:g}x first, no errors",
        met=(ratio <= TARGET_DRIFT and errors == 0) if full else None,
        notes=(
            f"{rate:g}/s; p95 per slice {'/'.join(f'{f.p95:.0f}' for f in figures)} ms; "
            f"{sum(f.count for f in figures):,} served, {errors} errors {refused or ''}; "
            f"load average {_load()}"
        ),
    )


def _hot_tables(before: dict, after: dict, counter: str, count: int) -> list[str]:
    """The `count` tables whose `counter` (inserts, or updates + deletes: the writes that
    leave dead tuples) grew most between the two `table_figures`, largest first."""
    grew = {
        name: figures[counter] - before[name][counter]
        for name, figures in after.items()
        if name in before and figures[counter] > before[name][counter]
    }
    return sorted(grew, key=grew.get, reverse=True)[:count]


def _bloat_result(before, after, hot: list[str], grown: list[str], stattuple, full) -> BenchResult:
    def share(figures: dict) -> float:
        dead = sum(figures[name]["dead"] for name in hot)
        return dead / max(1, dead + sum(figures[name]["live"] for name in hot))

    def mb(size: int) -> str:
        return f"{size / 2**20:,.1f}"

    tables = []
    for name in hot + grown:
        b, a = before[name], after[name]
        tables.append(
            ("" if name in hot else "most inserted: ")
            + f"{name} {a['changes'] - b['changes']:,} updated or deleted, "
            f"{a['inserts'] - b['inserts']:,} inserted; dead "
            f"{100 * a['dead'] / max(1, a['dead'] + a['live']):.1f}% "
            f"({a['dead']:,}/{a['live']:,}), {a['autovacuums'] - b['autovacuums']} autovacuums, "
            f"table {mb(b['size'])}->{mb(a['size'])} MB, indexes "
            f"{mb(b['index_size'])}->{mb(a['index_size'])} MB"
            + (f", pgstattuple {stattuple[name]}" if name in stattuple else "")
        )
    measured = 100 * share(after)
    return BenchResult(
        name="soak.hot_tables_dead_share",
        measured=measured,
        unit="%",
        baseline=100 * share(before),
        baseline_name="at the start",
        target=f"<= {100 * TARGET_DEAD_SHARE:g}% dead tuples in the hot tables",
        met=(measured <= 100 * TARGET_DEAD_SHARE) if full else None,
        notes="; ".join(tables),
    )
