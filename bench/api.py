"""SPEC §12: `POST events/` and `GET players/{id}/` under 200 req/s: p95 ≤ 25 ms and ≤ 2× the
p95 of a bare DRF token-authenticated endpoint reading one row, under the same load.

Setup (not timed): a scratch database `<DATABASE_URL name>_api`, migrated, with generated
players and activity loaded by COPY and their metrics refreshed (so a player read returns real
metric rows); a `service` account made with `create_service_account`; gunicorn serving the
product (`config.wsgi`) with bench/settings.py — the product's settings plus the baseline view of
bench/urls.py — on loopback, with Celery publishing to Redis as in production (no worker runs:
the after-event refresh is only queued, and the queue is deleted afterwards).

The load is open loop: request i is due at t0 + i / rate whatever happened before, a pool of
client threads (keep-alive connections) sends it, and its latency runs from when it was due to
when its response was read — a stalled server shows as latency instead of silently lowering the
rate (no coordinated omission). Each endpoint gets its own run at the same rate and length; the
first second is warm-up and not counted. An error is a connection failure or a status other than
200 (a `rejected` event, e.g. insufficient funds, is a 200 and counts as served), and a request
still unsent 5 s after it was due (status -1: the server is saturated; it is dropped so that the
run ends on time).
"""

from __future__ import annotations

import http.client
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from bench.common import BenchResult, cpu_seconds_by_group, cpu_used, free_port
from bench.db import load_casino, scratch_database
from bench.generate import ANCHOR, Casino, generate

RATE = float(os.environ.get("BENCH_API_RATE", "200"))  # requests per second (SPEC: 200)
TARGET_P95_MS = 25.0
TARGET_RATIO = 2.0
TARGET_BATCH_RATE = 2000.0  # events/s for a 1,000-event batch (issue 12)
BATCH_EVENTS = 1000
CLIENT_THREADS = 32
SMOKE_SECONDS = 2.0  # per open-loop run below scale 0.1
# A backend reports its WAL statistics (pg_stat_wal: the full-page images) at most once a
# second, after its transaction: read them this long after the requests measured, or they
# show 0. (WAL bytes come from the insert position, exact at once.)
STATS_FLUSH_SECONDS = 1.2
BACKLOG_SECONDS = 5.0  # a request not sent within this of its due time counts as an error (-1)
OWN_DATABASE = True  # a scratch database of its own, loaded by COPY (bench/db.py)
PRODUCTION_CLUSTER = True  # on a dedicated production-configured cluster (bench/cluster.py)
ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")

Request = tuple[str, str, bytes | None]  # method, path, body


@dataclass
class Sample:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    sent: int = 0
    # every counted request as (index, status, latency ms); index / rate - warm-up is when it
    # was due, in seconds from the start of the measured load (bench/soak.py slices by it)
    timeline: list[tuple[int, int, float]] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def casino_prepare(players: int, *, seed: int) -> Casino:
    """Generate a casino of `players` players with 20 activity rows each, COPY it into Django's
    (migrated, empty) database and refresh every player's metrics (as of `ANCHOR`) and segment,
    so that player reads and rules see real metric rows. → the generated casino."""
    from players.services import metrics_refresh, segments_refresh

    casino = generate(players, players * 20, seed=seed)
    load_casino(casino)
    metrics_refresh(player_ids=None, as_of=ANCHOR)
    segments_refresh(player_ids=None)
    return casino


def service_token(name: str) -> str:
    """A `service` account made with `create_service_account`; → its API token."""
    from django.core.management import call_command

    out = io.StringIO()
    with redirect_stdout(out):
        call_command("create_service_account", name, role="service", stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def run(scale: float = 1.0) -> list[BenchResult]:
    # 30 s per endpoint at full scale, at least 5 s; 2 s in the smoke run (below scale 0.1,
    # where the batches are 200 events too): 400 requests still show the path works
    seconds = max(5.0, 30.0 * min(scale, 1.0)) if scale >= 0.1 else SMOKE_SECONDS
    players = max(500, int(20_000 * min(scale, 1.0)))
    with scratch_database("api") as database:
        casino = casino_prepare(players, seed=23)
        token = service_token("bench-api")
        from django.db import connection

        from bench.urls import WRITE_TABLE_SQL

        with connection.cursor() as cursor:
            cursor.execute(WRITE_TABLE_SQL)
        with gunicorn(database) as base_url:
            host, port = urlparse(base_url).hostname, urlparse(base_url).port
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            player_ids = casino.player_ids()
            # batches first, on players no single event has touched yet
            batch_size = BATCH_EVENTS if scale >= 0.1 else 200
            # one by one is slow: below full scale only the first 200 are sent (and compared)
            compared = batch_size if scale >= 1 else min(batch_size, 200)
            batches = {
                variant: batch_versus_one_by_one(
                    host,
                    port,
                    headers,
                    variant=variant,
                    size=batch_size,
                    compared=compared,
                    offset=offset,
                )
                for offset, variant in enumerate(("plain", "mixed"))
            }
            rng = np.random.default_rng(5)
            picks = rng.integers(0, casino.player_count, size=int(RATE * (seconds + 2)) + 10)

            def ping(i: int) -> Request:
                return "GET", f"/bench/ping/?id={picks[i] + 1}", None

            def player(i: int) -> Request:
                return "GET", f"/api/v1/players/{player_ids[picks[i]]}/", None

            now = datetime.now(UTC).isoformat()
            currency = casino.player_currency

            def event(i: int) -> Request:
                who = picks[i // 2]  # a deposit, then a bet of the same player
                kind, amount = ("deposit", "50.00") if i % 2 == 0 else ("bet", "1.00")
                body = {
                    "external_id": f"bench-{os.getpid()}-{i}",
                    "player_id": str(player_ids[who]),
                    "type": kind,
                    "amount": amount,
                    "currency": str(currency[who]),
                    "occurred_at": now,
                    **({"game_id": "slots-1", "game_category": "slots"} if kind == "bet" else {}),
                }
                return "POST", "/api/v1/events/", json.dumps(body).encode()

            def write(i: int) -> Request:
                method, _, body = event(i)
                return "POST", "/bench/write/", body

            figures = {}
            runs = (("baseline", ping), ("write", write), ("player", player), ("events", event))
            for name, make in runs:
                before = cpu_seconds_by_group()
                figures[name] = open_loop(host, port, headers, make, rate=RATE, seconds=seconds)
                sample = figures[name]
                used = cpu_used(before, cpu_seconds_by_group())
                per_request = ", ".join(
                    f"{group} {1000 * cpu / sample.sent:.2f}" for group, cpu in used.items()
                )
                print(
                    f"   {name:<9} {len(sample.latencies_ms):>6} ok  {sample.errors} errors  "
                    f"p50 {sample.percentile(50):.1f}  p95 {sample.percentile(95):.1f}  "
                    f"p99 {sample.percentile(99):.1f} ms  statuses {sample.statuses}; "
                    f"CPU ms per request: {per_request}",
                    flush=True,
                )
        _purge_queue()

    baseline_p95 = figures["baseline"].percentile(95)
    write_p95 = figures["write"].percentile(95)
    results = [
        BenchResult(
            name="api.baseline_ping_p95",
            measured=baseline_p95,
            unit="ms",
            target="(baseline: bare DRF token read)",
            notes=_notes(figures["baseline"], seconds),
        ),
        BenchResult(
            name="api.baseline_write_p95",
            measured=write_p95,
            unit="ms",
            baseline=baseline_p95,
            baseline_name="bare DRF p95",
            target="(baseline: bare DRF token write, one committed row)",
            notes=_notes(figures["write"], seconds),
        ),
        BenchResult(
            name="api.post_events_vs_write_p95",
            measured=figures["events"].percentile(95),
            unit="ms",
            baseline=write_p95,
            baseline_name="bare DRF write p95",
            target="(ratio to a bare write; SPEC's 2x is to the read)",
            notes="the part of an event beyond one committed insert",
        ),
    ]
    for variant, batch in batches.items():
        results.append(
            BenchResult(
                name=f"api.post_events_batch_{variant}",
                measured=batch.batch_rate,
                unit="events/s",
                baseline=batch.one_rate,
                baseline_name="one by one",
                target=f">= {TARGET_BATCH_RATE:g} events/s, same answers",
                met=batch.same and batch.batch_rate >= TARGET_BATCH_RATE,
                notes=batch.notes(),
            )
        )
    for key, name in (("events", "api.post_events_p95"), ("player", "api.get_player_p95")):
        sample = figures[key]
        p95 = sample.percentile(95)
        results.append(
            BenchResult(
                name=name,
                measured=p95,
                unit="ms",
                baseline=baseline_p95,
                baseline_name="bare DRF p95",
                target=f"p95 <= {TARGET_P95_MS:g} ms and <= {TARGET_RATIO:g}x baseline",
                met=(
                    sample.errors == 0
                    and p95 <= TARGET_P95_MS
                    and p95 <= TARGET_RATIO * baseline_p95
                ),
                notes=_notes(sample, seconds),
            )
        )
    return results


@dataclass
class BatchFigures:
    variant: str
    size: int
    compared: int  # the first events, also sent one by one
    one_seconds: float
    batch_seconds: float
    same: bool
    statuses: dict[str, int]
    first_difference: str = ""

    @property
    def one_rate(self) -> float:
        return self.compared / self.one_seconds

    @property
    def batch_rate(self) -> float:
        return self.size / self.batch_seconds

    def notes(self) -> str:
        same = "same answers" if self.same else f"ANSWERS DIFFER: {self.first_difference}"
        return (
            f"{self.size} events in one request: {self.batch_seconds:.3f}s; the first "
            f"{self.compared} one by one: {self.one_seconds:.2f}s; {same}; {self.statuses}"
        )


def batch_sequence(rng, players: int, size: int, *, wins: bool, tag: str) -> list[dict]:
    """`size` events over `players` twin players (`{side}` placeholders): deposits, bets and
    withdrawals; with `wins`, a third of the bets' players also send a win on their last bet
    (those players then take the one-by-one path inside the batch)."""
    sequence, last_bet = [], {}
    for number in range(size):
        who, roll = int(rng.integers(players)), rng.random()
        fields = {"external_id": f"bench-{tag}-{{side}}-{number}", "player": who}
        if roll < 0.3:
            fields.update(type="deposit", amount="50.00")
        elif roll < 0.35:
            fields.update(type="withdrawal", amount="30.00")
        elif wins and who % 3 == 0 and who in last_bet and roll < 0.6:
            fields.update(type="win", amount="2.00", reference_id=last_bet.pop(who))
        else:
            amount = str(rng.choice(["1.00", "5.00", "20.00"]))
            fields.update(type="bet", amount=amount, game_id="slots-1", game_category="slots")
            last_bet[who] = fields["external_id"]
        sequence.append(fields)
    return sequence


def batch_versus_one_by_one(
    host, port, headers, *, variant: str, size: int, compared: int, offset: int
) -> BatchFigures:
    """The same event sequence for twin players: side `a` one request per event for its first
    `compared` events (the baseline), side `b` one request of all `size` events; both timed end
    to end (client side), the answers compared event by event (balances after each, statuses,
    reasons) — an answer depends only on the events before it, so a prefix compares fully."""
    players = max(10, size // 10)
    twins = _twin_players(players, skip=offset * players)
    sequence = batch_sequence(
        np.random.default_rng(17 + offset), players, size, wins=variant == "mixed", tag=variant
    )
    now = datetime.now(UTC).isoformat()

    def body(fields: dict, side: str) -> dict:
        pair = twins[fields["player"]]
        event = {
            key: value.format(side=side) if isinstance(value, str) else value
            for key, value in fields.items()
            if key != "player"
        }
        player_id, currency = pair[0] if side == "a" else pair[1]
        return {**event, "player_id": player_id, "currency": currency, "occurred_at": now}

    connection = http.client.HTTPConnection(host, port, timeout=120)
    one_by_one, started = [], time.perf_counter()
    for fields in sequence[:compared]:
        connection.request(
            "POST", "/api/v1/events/", json.dumps(body(fields, "a")).encode(), headers
        )
        one_by_one += json.loads(connection.getresponse().read())["results"]
    one_seconds = time.perf_counter() - started
    payload = json.dumps({"events": [body(fields, "b") for fields in sequence]}).encode()
    time.sleep(STATS_FLUSH_SECONDS)  # the one-by-one requests' statistics reported first
    wal_before = _wal_counters()
    started = time.perf_counter()
    connection.request("POST", "/api/v1/events/", payload, headers)
    response = connection.getresponse()
    batched = json.loads(response.read())["results"]
    batch_seconds = time.perf_counter() - started
    wal_bytes = _wal_counters()["wal_bytes"]  # the insert position: exact at once
    time.sleep(STATS_FLUSH_SECONDS)  # the full-page images wait for the backend's report
    wal = {k: v - wal_before[k] for k, v in _wal_counters().items()}
    wal["wal_bytes"] = wal_bytes - wal_before["wal_bytes"]
    connection.close()

    def answer(result: dict, side: str) -> dict:
        return {**result, "external_id": result["external_id"].replace(f"-{side}-", "-")}

    pairs = [
        (answer(a, "a"), answer(b, "b"))
        for a, b in zip(one_by_one, batched[:compared], strict=True)
    ]
    differ = next((f"{a} != {b}" for a, b in pairs if a != b), "")
    statuses: dict[str, int] = {}
    for result in batched:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    figures = BatchFigures(
        variant, size, compared, one_seconds, batch_seconds, not differ, statuses, differ
    )
    print(
        f"   batch {variant:<5} {size} events: one request {batch_seconds:.3f}s "
        f"({figures.batch_rate:,.0f}/s), {compared} one by one {one_seconds:.2f}s "
        f"({figures.one_rate:,.0f}/s); {'same answers' if figures.same else 'ANSWERS DIFFER'}"
        f" {statuses}; during the batch: WAL {wal['wal_bytes'] / 1e6:.1f} MB, full-page images "
        f"{wal['wal_fpi']:,}, checkpoints {wal['checkpoints']}, buffers written by checkpoints "
        f"{wal['buffers_checkpoint']:,}",
        flush=True,
    )
    return figures


def _wal_counters() -> dict[str, int]:
    """bench/cluster.py's `write_counters` on Django's connection, to tell what a timed request
    cost the server beyond its statements: full-page images after a checkpoint, a checkpoint
    writing at the same time (zeros where PostgreSQL 17 moved the checkpoint counters)."""
    from django.db import DatabaseError, connection

    from bench.cluster import WRITE_COUNTERS, write_counters

    try:
        with connection.cursor() as cursor:
            return write_counters(cursor)
    except DatabaseError:  # PostgreSQL 17 moved the checkpoint counters: not shown
        return dict.fromkeys(WRITE_COUNTERS, 0)


def _twin_players(count: int, *, skip: int) -> list[tuple[tuple, tuple]]:
    """`count` pairs of active players holding the same currency, from the newest (no wallet
    activity yet: the load writes activity, never money; single events run afterwards)."""
    from players.models import Player

    by_currency: dict[str, list[str]] = {}
    rows = Player.objects.filter(status=Player.Status.ACTIVE).order_by("-pk")
    for external_id, currency in rows.values_list("external_id", "currency_id")[: 8 * count]:
        by_currency.setdefault(currency, []).append(external_id)
    pairs = [
        ((group[i], currency), (group[i + 1], currency))
        for currency, group in sorted(by_currency.items(), key=lambda kv: -len(kv[1]))
        for i in range(0, len(group) - 1, 2)
    ]
    return pairs[skip : skip + count]


def _notes(sample: Sample, seconds: float) -> str:
    return (
        f"{RATE:g} req/s x {seconds:g}s: p50 {sample.percentile(50):.1f} "
        f"p99 {sample.percentile(99):.1f} ms, {sample.errors} errors"
    )


@contextmanager
def gunicorn(database: str):
    """gunicorn serving the product on loopback against `database`; yields its base URL."""
    from django.db import connection

    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{database}"
    )
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": "",
        "REDIS_URL": BROKER,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore:No directory at",  # WhiteNoise: no collectstatic for a bench
    }
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),  # as deployed: metrics files, keep-alive
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    # the deployed shape (2 workers per core × 2 threads) unless the environment tries another
    for option, variable in (
        ("--workers", "BENCH_API_WORKERS"),
        ("--worker-class", "BENCH_API_WORKER_CLASS"),
        ("--threads", "BENCH_API_THREADS"),
    ):
        if os.environ.get(variable):
            command += [option, os.environ[variable]]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_ready(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 503):
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def open_loop(
    host: str,
    port: int,
    headers: dict[str, str],
    make: Callable[[int], Request],
    *,
    rate: float,
    seconds: float,
    warmup: float = 1.0,
) -> Sample:
    """Send request i at t0 + i/rate (open loop); latency counts from when it was due."""
    total = int(rate * (seconds + warmup))
    counted_from = int(rate * warmup)
    due: queue.Queue = queue.Queue()
    sample = Sample()
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        while True:
            item = due.get()
            if item is None:
                return
            index, due_at = item
            if time.perf_counter() - due_at > BACKLOG_SECONDS:
                # The server is this far behind: count the request as failed, don't send it,
                # so a saturated server ends the run on time instead of draining a backlog.
                if index >= counted_from:
                    with lock:
                        sample.errors += 1
                        sample.statuses[-1] = sample.statuses.get(-1, 0) + 1
                        sample.timeline.append((index, -1, (time.perf_counter() - due_at) * 1000))
                continue
            method, path, body = make(index)
            for attempt in (1, 2):
                try:
                    connection.request(method, path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                    break
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=10)
                    status = 0
                    # the server closed an idle keep-alive connection before reading the
                    # request (after deploy/gunicorn.conf.py's keepalive; low rates): send it again once
                    if attempt == 2 or not isinstance(
                        error, http.client.RemoteDisconnected | BrokenPipeError
                    ):
                        break
            latency = (time.perf_counter() - due_at) * 1000
            if index < counted_from:
                continue
            with lock:
                sample.statuses[status] = sample.statuses.get(status, 0) + 1
                sample.timeline.append((index, status, latency))
                if status == 200:
                    sample.latencies_ms.append(latency)
                else:
                    sample.errors += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.05
    for index in range(total):
        due_at = start + index / rate
        delay = due_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        due.put((index, due_at))
        sample.sent += 1
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join(timeout=30)
    return sample


def _purge_queue() -> None:
    """Delete the refresh tasks the events queued (no worker ran to take them)."""
    try:
        import redis

        redis.Redis.from_url(BROKER).delete("celery")
    except Exception as error:  # noqa: BLE001 - cleanup must not hide the figures
        print(f"   could not purge {BROKER}: {error!r}")
