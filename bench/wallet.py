"""Wallet throughput (SPEC §12): wallet operations per second through the service layer with 8
concurrent clients, beside pgbench TPC-B with 8 clients measured in the same run; target ≥ 35%
(issue 12; SPEC §12's 20% is the floor) and steady: the last wallet phase within 15% of the first.

Run: DATABASE_URL=postgres://… python -m bench --only wallet [--scale S] (the runner gives it a
migrated scratch database), or python -m bench.wallet [scale] against a migrated database. It
needs pgbench (PATH or /usr/lib/postgresql/*/bin).

Fairness:
- the 8 wallet clients are 8 processes (spawned: each has its own interpreter, Django setup and
  database connection, so they do not share a GIL), as pgbench's 8 clients are 8 connections
  (`-c 8 -j 2`, TPC-B as shipped, scale 8);
- both sides warm up uncounted (pgbench 2 s, the clients 2 s and 0.5 s before each phase),
  then run fixed measured windows;
- pgbench and the wallet alternate on the same server in short phases, P W W P P W W P (4
  rounds at scale >= 0.1, of max(3 s, 10 s x scale) each), so a load change on a shared machine
  hits both sides alike; the client processes stay alive between phases. The figure is total
  operations over total measured time of each side; the per-round ratios show the spread;
- the op mix is what a game server sends: a bet of 1.00 then its win (0.50, 1.00 or 2.00,
  settled against that bet), and a deposit of 10.00 every tenth round — every operation locks
  the player's accounts, posts a balanced transaction and commits.

The wallet writes players `bench-wallet-*` and removes them and their ledger rows afterwards
(bypassing the append-only trigger as the superuser); pgbench runs on a scratch database it
creates and drops.
"""

import glob
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal

from bench.cluster import PgSampler, dsn_kwargs_of_django
from bench.common import BenchResult

CLIENTS = 8
PGBENCH_JOBS = 2
PREFIX = "bench-wallet-"
SCRATCH_DB = "pitboss_bench_pgbench"
DEPOSIT_EVERY = 10  # rounds (bet + win) per deposit
KINDS = ("bet", "win", "deposit")
PRODUCTION_CLUSTER = True  # runs on a dedicated production-configured cluster (bench/cluster.py)
HOT_TABLES = ("wallet_account", "wallet_bonus", "players_player")
TARGET_SHARE = 0.35  # of pgbench's tps (issue 12; SPEC §12's floor is 0.20)
STEADY_SHARE = 0.85  # the last wallet phase's rate over the first's


def _table_change(before: dict, after: dict) -> str:
    """Per hot table: dead tuples at the phase's end, updates and HOT share, autovacuum runs."""
    parts = []
    for table in HOT_TABLES:
        start, end = before.get(table), after.get(table)
        if start is None or end is None:
            continue
        updated = end["updated"] - start["updated"]
        hot = 100 * (end["hot_updated"] - start["hot_updated"]) / updated if updated else 0
        parts.append(
            f"{table}: dead {end['dead']:,} (live {end['live']:,}), {updated:,} updates "
            f"{hot:.0f}% HOT, autovacuum +{end['autovacuums'] - start['autovacuums']}"
        )
    return "; ".join(parts)


def _pgbench_path() -> str:
    found = shutil.which("pgbench") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None
    )
    if not found:
        raise RuntimeError("pgbench not found")
    return found


def _pg_env_args() -> tuple[dict, list[str]]:
    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432)]
    args += ["-U", db.get("USER") or "postgres"]
    return env, args


def _pgbench_init() -> None:
    from django.db import connection

    env, args = _pg_env_args()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        cursor.execute(f"CREATE DATABASE {SCRATCH_DB}")
    # scale 8: one branch row per client, as TPC-B's own contention would have it
    subprocess.run(
        [_pgbench_path(), *args, "-i", "-s", str(CLIENTS), "-q", SCRATCH_DB],
        env=env,
        check=True,
        capture_output=True,
    )


def _pgbench_drop() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")


def _pgbench_tps(seconds: float) -> float:
    """TPC-B tps of 8 clients over `seconds` (connection set-up excluded, as pgbench reports)."""
    env, args = _pg_env_args()
    out = subprocess.run(
        [_pgbench_path(), *args, "-c", str(CLIENTS), "-j", str(PGBENCH_JOBS),
         "-T", str(max(1, round(seconds))), "-n", SCRATCH_DB],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    match = re.search(r"tps = ([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output: {out}")
    return float(match.group(1))


def _players_make(count: int) -> list[int]:
    from django.utils import timezone

    from players.models import Player
    from wallet import services

    now = timezone.now()
    Player.objects.bulk_create(
        [
            Player(external_id=f"{PREFIX}{i}", currency_id="EUR", registered_at=now)
            for i in range(count)
        ],
        ignore_conflicts=True,
    )
    players = list(Player.objects.filter(external_id__startswith=PREFIX).order_by("pk"))
    for player in players:
        services.wallet_deposit(
            player=player,
            currency="EUR",
            amount=Decimal("1000000.00"),
            idempotency_key=f"{PREFIX}seed-{player.pk}-{time.time_ns()}",
        )
    return [player.pk for player in players]


def _cleanup() -> None:
    from django.db import connection, transaction

    players = f"SELECT id FROM players_player WHERE external_id LIKE '{PREFIX}%%'"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # skip append-only
        cursor.execute(
            "DELETE FROM wallet_entry WHERE transaction_id IN (SELECT id FROM "
            f"wallet_ledgertransaction WHERE player_id IN ({players}))"
        )
        cursor.execute(f"DELETE FROM wallet_ledgertransaction WHERE player_id IN ({players})")
        cursor.execute(f"DELETE FROM wallet_account WHERE player_id IN ({players})")
        cursor.execute(f"DELETE FROM players_player WHERE id IN ({players})")


def _client(index: int, database: dict, player_ids: list[int], commands, results) -> None:
    """One wallet client process: its own Django and connection, its own players (as TPC-B
    tellers), bet → win rounds with a deposit every tenth. Per command (measure_from,
    measure_to) it plays until measure_to and reports what completed inside the window; None
    ends it. It stays alive between phases, so its connection and prepared statements do too."""
    import random

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    from config.errors import DomainError
    from players.models import Player
    from wallet import services

    connection.settings_dict.update(database)  # the server and database the runner uses
    players = list(Player.objects.filter(pk__in=player_ids).order_by("pk"))
    rng = random.Random(index)
    serial = 0
    results.put(("ready", index))
    while (command := commands.get()) is not None:
        measure_from, measure_to = command
        counts = dict.fromkeys(KINDS, 0)
        refused = 0
        cpu_from = None
        while (now := time.time()) < measure_to:
            counting = now >= measure_from
            if counting and cpu_from is None:
                cpu_from = time.process_time()
            player = rng.choice(players)
            serial += 1
            key = f"{PREFIX}{index}-{serial}-{time.time_ns()}"
            done = []
            try:
                if serial % DEPOSIT_EVERY == 0:
                    services.wallet_deposit(
                        player=player,
                        currency="EUR",
                        amount=Decimal("10.00"),
                        idempotency_key=f"{key}-d",
                    )
                    done.append("deposit")
                bet = services.wallet_bet_place(
                    player=player,
                    currency="EUR",
                    amount=Decimal("1.00"),
                    idempotency_key=f"{key}-b",
                    game_category="slots",
                )
                done.append("bet")
                services.wallet_win_settle(
                    player=player,
                    currency="EUR",
                    amount=Decimal(rng.choice(["0.50", "1.00", "2.00"])),
                    idempotency_key=f"{key}-w",
                    bets=[bet],
                )
                done.append("win")
            except DomainError:
                refused += 1
            if counting and time.time() <= measure_to:
                for kind in done:
                    counts[kind] += 1
        cpu = time.process_time() - cpu_from if cpu_from is not None else 0.0
        results.put(("phase", index, counts, refused, cpu))
    connection.close()


class _Clients:
    """The 8 wallet client processes (spawned: each imports and sets up Django itself)."""

    def __init__(self, database: dict, player_ids: list[int]) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.commands = [context.Queue() for _ in range(CLIENTS)]
        self.processes = [
            context.Process(
                target=_client,
                args=(i, database, player_ids[i::CLIENTS], self.commands[i], self.results),
                daemon=True,
            )
            for i in range(CLIENTS)
        ]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            self.results.get(timeout=180)

    def phase(self, warmup: float, seconds: float) -> dict:
        """All clients play `warmup` seconds uncounted, then `seconds` counted."""
        start = time.time() + 0.05
        for queue in self.commands:
            queue.put((start + warmup, start + warmup + seconds))
        collected = [self.results.get(timeout=warmup + seconds + 120) for _ in self.processes]
        counts = dict.fromkeys(KINDS, 0)
        for _, _, client_counts, _, _ in collected:
            for kind in KINDS:
                counts[kind] += client_counts[kind]
        return {
            "counts": counts,
            "ops": sum(counts.values()),
            "refused": sum(c[3] for c in collected),
            "client_cpu": sum(c[4] for c in collected),
            "seconds": seconds,
        }

    def close(self) -> None:
        for queue in self.commands:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()


def run(scale: float = 1.0) -> list[BenchResult]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench.wallet needs PostgreSQL (DATABASE_URL)")
        return []
    # Short phases alternating P W W P P W W P …: a load change on a shared machine hits both
    # sides alike. 4 rounds of 3 s each at scale 0.2, of 10 s at scale 1; 1 round in smoke runs.
    seconds = max(3.0, 10 * scale)
    rounds = 4 if scale >= 0.1 else 1
    database = {
        key: connection.settings_dict[key] for key in ("NAME", "HOST", "PORT", "USER", "PASSWORD")
    }
    sampler = PgSampler(dsn_kwargs_of_django(), tables=list(HOT_TABLES))
    stats_per_phase = []
    load_before = os.getloadavg()
    _cleanup()
    wallet, pgbench = [], []
    clients = None
    try:
        player_ids = _players_make(max(CLIENTS * 25, int(CLIENTS * 250 * scale)))
        _pgbench_init()
        connection.close()  # the clients and pgbench get the server to themselves
        clients = _Clients(database, player_ids)
        _pgbench_tps(2)  # warm-ups, not counted: pgbench's tables, the clients' connections
        clients.phase(2.0, 0.0)
        for round_ in range(rounds):
            order = ("pgbench", "wallet") if round_ % 2 == 0 else ("wallet", "pgbench")
            for side in order:
                if side == "pgbench":
                    pgbench.append(_pgbench_tps(seconds))
                    print(f"   pgbench TPC-B  {pgbench[-1]:>9,.1f} tps", flush=True)
                else:
                    before = sampler.table_stats()
                    sampler.start()
                    phase = clients.phase(0.5, seconds)
                    sampler.stop()
                    stats_per_phase.append(_table_change(before, sampler.table_stats()))
                    wallet.append(phase)
                    print(
                        f"   wallet         {phase['ops'] / seconds:>9,.1f} ops/s  "
                        f"{phase['counts']}  refused {phase['refused']}  "
                        f"client CPU {1000 * phase['client_cpu'] / max(phase['ops'], 1):.2f} "
                        "ms/op",
                        flush=True,
                    )
                    print(f"   {stats_per_phase[-1]}", flush=True)
    finally:
        if clients is not None:
            clients.close()
        _pgbench_drop()
        _cleanup()
    load_after = os.getloadavg()
    ops = sum(phase["ops"] for phase in wallet)
    measured = sum(phase["seconds"] for phase in wallet)
    wallet_rate = ops / measured
    tps = sum(pgbench) / len(pgbench)
    counts = {kind: sum(phase["counts"][kind] for phase in wallet) for kind in KINDS}
    mix = ", ".join(f"{kind} {100 * n / max(ops, 1):.1f}%" for kind, n in counts.items())
    phases = "/".join(f"{p['ops'] / p['seconds']:.0f}" for p in wallet)
    ratios = sorted(p["ops"] / p["seconds"] / t for p, t in zip(wallet, pgbench, strict=True))
    cpu_per_op = 1000 * sum(phase["client_cpu"] for phase in wallet) / max(ops, 1)
    first, last = (phase["ops"] / phase["seconds"] for phase in (wallet[0], wallet[-1]))
    steady = last / max(first, 1e-9)
    result = BenchResult(
        name="wallet.ops_8_clients",
        measured=wallet_rate,
        unit="ops/s",
        baseline=tps,
        baseline_name="pgbench TPC-B",
        target=">= 35% of pgbench TPC-B tps, last wallet phase >= 85% of the first",
        met=wallet_rate >= TARGET_SHARE * tps and steady >= STEADY_SHARE,
        notes=(
            f"{ops} ops in {measured:.0f}s ({mix}), "
            f"{sum(phase['refused'] for phase in wallet)} refused, {len(player_ids)} players, "
            f"client CPU {cpu_per_op:.2f} ms/op, per phase wallet "
            f"{phases} pgbench "
            f"{'/'.join(f'{t:.0f}' for t in pgbench)}, per-round ratio "
            f"{ratios[0]:.1%}..{ratios[-1]:.1%}, last/first wallet phase "
            f"{steady:.0%}, load "
            f"{load_before[0]:.2f}->{load_after[0]:.2f}, waits {sampler.top_waits()}"
        ),
    )
    print(
        f"   wallet service layer: {wallet_rate:,.1f} ops/s ({CLIENTS} processes; {mix})\n"
        f"   pgbench TPC-B:        {tps:,.1f} tps (-c {CLIENTS} -j {PGBENCH_JOBS})\n"
        f"   ratio:                {wallet_rate / tps:.1%} (target >= {TARGET_SHARE:.0%}; per round "
        f"{ratios[0]:.1%} .. {ratios[-1]:.1%}), "
        f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}",
        flush=True,
    )
    return [result]


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
