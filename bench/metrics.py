"""SPEC §12: metrics + segmentation refresh for 100,000 players / 5,000,000 activities ≤ 15 s.

Setup (not timed): a scratch database `<DATABASE_URL name>_metrics`, migrated with the project,
gets the generated casino by COPY (bench/db.py); the database in DATABASE_URL is not touched.

Timed: `players.services.metrics_refresh(player_ids=None)` followed by `segments_refresh(
player_ids=None)`, as of the generator's fixed "now" — first on an empty metrics table (every
row inserted: the first refresh after an import), then again (every row updated: the nightly
refresh). The figure is the slower of the two.

Baselines measured in the same run:
- naive: what the code would cost as a per-player ORM loop (the approach SPEC §4 forbids) — a
  loop over a sample of players computing each window with aggregate queries and writing the row
  with update_or_create, extrapolated to all players;
- floor: one bare `SELECT player_id, … GROUP BY player_id` over the activity table, the least
  any full refresh must read.
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.common import BenchResult
from bench.db import load_casino, scratch_database
from bench.generate import ANCHOR, generate

PLAYERS, ACTIVITIES = 100_000, 5_000_000
TARGET_SECONDS = 15.0
NAIVE_SAMPLE = 200
OWN_DATABASE = True  # a scratch database of its own, loaded by COPY (bench/db.py)


def run(scale: float = 1.0) -> list[BenchResult]:
    players = max(100, int(PLAYERS * scale))
    activities = max(2_000, int(ACTIVITIES * scale))
    casino = generate(players, activities, seed=11)
    with scratch_database("metrics"):
        timings = load_casino(casino)
        print(
            f"   loaded {players:,} players / {activities:,} activities: "
            + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in timings.items()),
            flush=True,
        )
        cold = _timed_refresh()
        warm = _timed_refresh()
        floor = _aggregate_floor()
        # a tenth of the players below 2,000 (the smoke's 1,000: 100), at least 50
        naive = _naive_loop(sample=min(NAIVE_SAMPLE, max(50, players // 10))) * players
    measured = max(cold[0], warm[0])
    full = scale >= 1.0
    return [
        BenchResult(
            name=f"metrics.refresh_{_size(players)}p_{_size(activities)}a",
            measured=measured,
            unit="s",
            baseline=naive,
            baseline_name="naive loop",
            target=f"<= {TARGET_SECONDS:g} s at 100k/5M",
            met=measured <= TARGET_SECONDS if full else None,
            notes=(
                f"insert {cold[0]:.1f}s (metrics {cold[1]:.1f} + segments {cold[2]:.1f}), "
                f"update {warm[0]:.1f}s (metrics {warm[1]:.1f} + segments {warm[2]:.1f})"
                + ("" if full else "; target applies at scale 1")
            ),
        ),
        BenchResult(
            name="metrics.refresh_vs_floor",
            measured=measured,
            unit="s",
            baseline=floor,
            baseline_name="bare GROUP BY",
            target="(floor: one aggregate scan)",
            notes="the least a full refresh must read",
        ),
    ]


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g}m"
    if count >= 1_000:
        return f"{count / 1_000:g}k"
    return str(count)


def _timed_refresh() -> tuple[float, float, float]:
    from players.services import metrics_refresh, segments_refresh

    started = time.perf_counter()
    metrics_refresh(player_ids=None, as_of=ANCHOR)
    middle = time.perf_counter()
    segments_refresh(player_ids=None)
    done = time.perf_counter()
    return done - started, middle - started, done - middle


def _aggregate_floor() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT player_id, type, SUM(player_amount), SUM(count), MAX(occurred_at)
            FROM players_activity GROUP BY player_id, type
            """
        )
        cursor.fetchall()
    return time.perf_counter() - started


def _naive_loop(*, sample: int) -> float:
    """Seconds per player of a per-player ORM refresh, measured on `sample` players."""
    from django.db.models import Count, Max, Q, Sum

    from players.metrics import WINDOW_HOURS
    from players.models import Activity, Player, PlayerMetrics

    ids = list(Player.objects.order_by("pk").values_list("pk", flat=True))
    ids = ids[:: max(1, len(ids) // sample)][:sample]  # every n-th player: the same sample each run
    started = time.perf_counter()
    for player_id in ids:
        for window, hours in WINDOW_HOURS.items():
            rows = Activity.objects.filter(player_id=player_id, occurred_at__lte=ANCHOR)
            if hours is not None:
                rows = rows.filter(occurred_at__gte=ANCHOR - timedelta(hours=hours))
            totals = {
                row["type"]: row
                for row in rows.values("type").annotate(
                    total=Sum("player_amount"), n=Sum("count"), last=Max("occurred_at")
                )
            }
            days = rows.filter(type="bet").aggregate(
                days=Count("occurred_at__date", distinct=True, filter=Q(type="bet"))
            )["days"]

            def total(kind: str, totals=totals) -> object:
                return totals.get(kind, {}).get("total") or 0

            turnover = total("bet") - total("rollback")
            PlayerMetrics.objects.update_or_create(
                player_id=player_id,
                window=window,
                defaults={
                    "as_of": ANCHOR,
                    "deposits": total("deposit") - total("chargeback"),
                    "withdrawals": total("withdrawal"),
                    "turnover": turnover,
                    "wins": total("win"),
                    "ggr": turnover - total("win"),
                    "active_days": days,
                },
            )
    return (time.perf_counter() - started) / max(1, len(ids))
