"""Scale-out: one 100,000-player × 20-rule run shared by 1, 2 and 4 Celery worker processes.

    DATABASE_URL=postgres://… python -m bench --only scaleout [--scale 0.01]

The players, metrics and rules are bench/rules.py's, generated once on the runner's scratch
database. Each worker count then gets a copy of that database (`CREATE DATABASE … TEMPLATE`, so
every run starts from the same state: no earlier rewards, budgets or bonuses) and that many real
`celery worker --pool solo` processes on it, consuming a queue of their own on the Redis at
`BENCH_BROKER_URL`. The clock runs from queueing the run's chunks (one Celery group of id
ranges, rewards/queueing.py) until the last chunk marks the run succeeded; worker start-up is
not counted. Each figure is players per second, its ratio the speed-up over one worker.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BenchResult

PLAYERS = 100_000
WORKERS = (1, 2, 4)
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
REPO = Path(__file__).resolve().parent.parent


def _chunk_size(count: int) -> int:
    """The production default (5,000: 20 chunks at full scale), smaller for a smoke run so
    that each of 4 workers still gets two chunks."""
    from players.batch import chunk_size_default

    return min(chunk_size_default(), max(50, count // 8))


def _workers_start(count: int, database: str, queue: str) -> list[subprocess.Popen]:
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "PITBOSS_DEV": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{database}",
        "DB_STATEMENT_TIMEOUT_MS": "0",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "ERROR",
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "-Q",
                queue,
                "-n",
                f"{queue}-{i}@%h",
                "-l",
                "error",
            ],
            cwd=REPO,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for i in range(count)
    ]


def _workers_stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def _timed_run(app, rule_ids: list[int], count: int, queue: str) -> tuple[float, object]:
    """Queue one run's chunks on `queue` and wait until the workers finish it; → (s, run)."""
    from rewards import queueing
    from rewards.models import RuleRun
    from rewards.runs import run_prepare
    from rewards.services import run_create

    run = run_create(rule_ids=rule_ids, start=False)
    started = time.perf_counter()
    chunks = run_prepare(run=run)
    queueing.chunks_enqueue(run.pk, chunks, queue=queue)
    while True:
        run.refresh_from_db()
        if run.status in (RuleRun.Status.SUCCEEDED, RuleRun.Status.FAILED):
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if run.status != RuleRun.Status.SUCCEEDED or run.players_done != count:
        raise RuntimeError(f"run {run.pk}: {run.status} {run.players_done}/{count} {run.error}")
    return seconds, run


def run(scale: float = 1.0) -> list[BenchResult]:
    import redis
    from django.conf import settings
    from django.db import connection, connections

    from bench.db import _admin, drop_database
    from bench.expressions import _generate
    from bench.rules import _rules, _setup_django
    from config.celery import app, workers_ready_wait
    from players.money import currencies_forget

    _setup_django()
    try:
        redis.Redis.from_url(BROKER).ping()
    except redis.ConnectionError as error:
        raise RuntimeError(f"bench.scaleout needs Redis at {BROKER} (BENCH_BROKER_URL)") from error
    currencies_forget()
    count = max(1000, int(PLAYERS * scale))
    _generate(count)
    rule_ids = [rule.pk for rule in _rules()]
    settings.PITBOSS["BATCH_CHUNK_SIZE"] = _chunk_size(count)
    template = connection.settings_dict["NAME"]
    queue = f"bench-scaleout-{os.getpid()}"
    previous = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "result_backend")}
    app.conf.update(broker_url=BROKER, task_always_eager=False, result_backend=None)
    app._pool = None
    app.amqp._producer_pool = None
    figures: dict[int, tuple[float, object]] = {}
    try:
        for workers in WORKERS:
            database = f"{template}_w{workers}"
            connections.close_all()
            drop_database(database)
            with _admin() as admin:
                admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
            connection.settings_dict["NAME"] = database
            started = _workers_start(workers, database, queue)
            try:
                host = socket.gethostname()
                workers_ready_wait([f"{queue}-{i}@{host}" for i in range(workers)], seconds=120)
                figures[workers] = _timed_run(app, rule_ids, count, queue)
                print(f"   {workers} worker(s): {figures[workers][0]:.1f} s", flush=True)
            finally:
                _workers_stop(started)
                connections.close_all()
                connection.settings_dict["NAME"] = template
                drop_database(database)
    finally:
        app.conf.update(previous)
        app._pool = None
        app.amqp._producer_pool = None
        redis.Redis.from_url(BROKER).delete(queue)
    one = count / figures[1][0]
    results = []
    for workers, (seconds, job) in figures.items():
        rate = count / seconds
        results.append(
            BenchResult(
                name=f"scaleout.rules_{workers}_worker{'s' if workers > 1 else ''}",
                measured=rate,
                unit="players/s",
                baseline=one,
                baseline_name="1 worker",
                target="more workers, more players/s (no SPEC target)",
                notes=(
                    f"{count} players × {len(rule_ids)} rules in {seconds:.1f} s, "
                    f"{job.chunks_total} chunks of {settings.PITBOSS['BATCH_CHUNK_SIZE']}, "
                    f"{job.issued} issued; {os.cpu_count()} cores shared with the database"
                ),
            )
        )
    return results
