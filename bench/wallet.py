"""Wallet throughput (SPEC §12): bet/win operations per second through the service layer with
8 concurrent clients, beside pgbench TPC-B (8 clients) run in the same script; target ≥ 20%.

Run: DATABASE_URL=postgres://… python -m bench.wallet [scale]. It needs a migrated PostgreSQL
database and pgbench (PATH or /usr/lib/postgresql/*/bin). pgbench runs against a scratch
database it creates and drops; the wallet loop writes players `bench-wallet-*` and removes them
and their ledger rows afterwards (bypassing the append-only trigger as the superuser).
"""

import glob
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from decimal import Decimal

from bench.common import BenchResult

CLIENTS = 8
PREFIX = "bench-wallet-"
SCRATCH_DB = "pitboss_bench_pgbench"


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


def _pgbench_tps(seconds: int) -> float:
    from django.db import connection

    env, args = _pg_env_args()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        cursor.execute(f"CREATE DATABASE {SCRATCH_DB}")
    try:
        pgbench = _pgbench_path()
        # scale 8: one branch row per client, as TPC-B's own contention would have it
        subprocess.run(
            [pgbench, *args, "-i", "-s", str(CLIENTS), "-q", SCRATCH_DB],
            env=env,
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [pgbench, *args, "-c", str(CLIENTS), "-j", str(CLIENTS), "-T", str(seconds), "-n",
             SCRATCH_DB],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout  # fmt: skip
        match = re.search(r"tps = ([\d.]+)", out)
        if match is None:
            raise RuntimeError(f"no tps in pgbench output: {out}")
        return float(match.group(1))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")


def _players_make(count: int) -> list:
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
    return players


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


def _wallet_ops(players: list, seconds: float) -> tuple[int, int]:
    from django.db import connections

    from config.errors import DomainError
    from wallet import services

    counts = [0] * CLIENTS
    refused = [0] * CLIENTS
    barrier = threading.Barrier(CLIENTS + 1)
    done = threading.Event()

    def client(index: int) -> None:
        rng = random.Random(index)
        own = players[index::CLIENTS]  # each client plays its own players, like TPC-B tellers
        barrier.wait()
        serial = 0
        try:
            while not done.is_set():
                player = rng.choice(own)
                serial += 1
                key = f"{PREFIX}{index}-{serial}-{time.time_ns()}"
                try:
                    bet = services.wallet_bet_place(
                        player=player,
                        currency="EUR",
                        amount=Decimal("1.00"),
                        idempotency_key=f"{key}-b",
                        game_category="slots",
                    )
                    services.wallet_win_settle(
                        player=player,
                        currency="EUR",
                        amount=Decimal(rng.choice(["0.50", "1.00", "2.00"])),
                        idempotency_key=f"{key}-w",
                        bets=[bet],
                    )
                    counts[index] += 2
                except DomainError:
                    refused[index] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    time.sleep(seconds)
    done.set()
    for thread in threads:
        thread.join()
    return sum(counts), sum(refused)


def run(scale: float = 1.0) -> list[BenchResult]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench.wallet needs PostgreSQL (DATABASE_URL)")
        return []
    seconds = max(3, int(10 * scale))
    _cleanup()
    try:
        players = _players_make(max(CLIENTS * 25, int(CLIENTS * 250 * scale)))
        started = time.perf_counter()
        ops, refused = _wallet_ops(players, seconds)
        elapsed = time.perf_counter() - started
    finally:
        _cleanup()
    wallet_rate = ops / elapsed
    tps = _pgbench_tps(seconds)
    result = BenchResult(
        name="wallet.bet_win_8_clients",
        measured=wallet_rate,
        unit="ops/s",
        baseline=tps,
        baseline_name="pgbench TPC-B",
        target=">= 20% of pgbench TPC-B tps",
        met=wallet_rate >= 0.2 * tps,
        notes=f"{ops} ops in {elapsed:.1f}s, {refused} refused, {len(players)} players",
    )
    print(f"wallet service layer: {wallet_rate:,.1f} ops/s (bet or win, 8 clients)")
    print(f"pgbench TPC-B:        {tps:,.1f} tps (8 clients, {seconds}s)")
    print(f"ratio:                {wallet_rate / tps:.2%} (target >= 20%)")
    print(result.line())
    return [result]


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
