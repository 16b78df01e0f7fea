"""Multi-account cluster detection over 100,000 players × scale with 300,000 fingerprints.

    DATABASE_URL=postgres://… python -m bench --only safety

Runs on a migrated scratch database (bench/db.py). Players and fingerprints are generated in the
database (INSERT … SELECT from generate_series): each player has a device, an IP and a payment
instrument of its own; 1% of players sit in rings of five sharing a device (every second ring
also a card), and 2% share an IP in pairs (households, weak links). Measured:
- `safety.clusters`: `safety.services.clusters_refresh` — find every cluster (one grouped SQL
  statement + union-find), store the clusters and raise the members' flags; the notes give the
  detection alone;
- the baseline: the naive way — every pair of players compared on their fingerprint sets — on a
  2,000-player sample in the same run, extrapolated to all players (pairs grow as n²).
Target (issue 15): ≤ 10 s at full scale. The run checks that every ring is found whole.
"""

import time

from bench.common import BenchResult

PLAYERS = 100_000
SAMPLE = 2_000
RING = 5
TARGET_SECONDS = 10.0


def _generate(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO players_player (external_id, username, email, country, currency_id,
                registered_at, status, segment, risk_score, no_bonus, created_at)
            SELECT 'bench-fp-' || g, '', '', 'DE', 'EUR', now(), 'active', 'new', 0, false, now()
            FROM generate_series(1, %s) AS g
            """,
            [count],
        )
        # g % 100 = 0: in a ring of five (ring = (g / 100 - 1) / 5); g % 50 in (1, 2): an IP for two
        cursor.execute(
            """
            INSERT INTO players_fingerprint (player_id, kind, value, first_seen_at)
            SELECT p.id, f.kind, f.value, now()
            FROM (SELECT id, substr(external_id, 10)::int AS g FROM players_player) p
            CROSS JOIN LATERAL (VALUES
                ('device', CASE WHEN p.g % 100 = 0 THEN 'ring-dev-' || ((p.g / 100 - 1) / 5)
                                ELSE 'dev-' || p.g END),
                ('ip', CASE WHEN p.g % 50 IN (1, 2) THEN 'home-' || (p.g / 50)
                            ELSE 'ip-' || p.g END),
                ('payment', CASE WHEN p.g % 100 = 0 AND ((p.g / 100 - 1) / 5) % 2 = 0
                                 THEN 'ring-card-' || ((p.g / 100 - 1) / 5) ELSE 'card-' || p.g END)
            ) AS f(kind, value)
            """
        )
        cursor.execute("ANALYZE players_fingerprint")


def _naive_pairs(player_ids: list[int]) -> tuple[float, int]:
    """Every pair of the sample compared on fingerprint sets: (seconds, linked pairs)."""
    from players.models import Fingerprint

    started = time.perf_counter()
    prints: dict[int, set] = {p: set() for p in player_ids}
    for player_id, kind, value in Fingerprint.objects.filter(player_id__in=player_ids).values_list(
        "player_id", "kind", "value"
    ):
        prints[player_id].add((kind, value))
    rows = list(prints.items())
    linked = 0
    for i, (_, mine) in enumerate(rows):
        for _, theirs in rows[i + 1 :]:
            if not mine.isdisjoint(theirs):
                linked += 1
    return time.perf_counter() - started, linked


def run(scale: float = 1.0) -> list[BenchResult]:
    from players.models import Fingerprint, Player
    from safety.clusters import fingerprint_clusters
    from safety.models import FraudFlag, SafetyPolicy
    from safety.services import clusters_refresh

    count = max(1_000, int(PLAYERS * scale))
    _generate(count)
    fingerprints = Fingerprint.objects.count()
    policy = SafetyPolicy.current()

    started = time.perf_counter()
    clusters = fingerprint_clusters(max_players=policy.shared_value_max_players)
    detect = time.perf_counter() - started
    started = time.perf_counter()
    clusters_refresh()
    seconds = time.perf_counter() - started

    rings = count // 100 // RING
    whole = sum(1 for c in clusters if c.size == RING)
    assert whole == rings, f"found {whole} rings of {RING}, expected {rings}"

    sample = list(Player.objects.order_by("pk").values_list("pk", flat=True)[:SAMPLE])
    naive, linked = _naive_pairs(sample)
    pairs = lambda n: n * (n - 1) / 2  # noqa: E731
    extrapolated = naive * pairs(count) / pairs(len(sample))
    return [
        BenchResult(
            name="safety.clusters",
            measured=seconds,
            unit="s",
            baseline=extrapolated,
            baseline_name="naive pairwise (extrapolated)",
            target=f"<= {TARGET_SECONDS:g} s for 100,000 players / 300,000 fingerprints",
            met=(seconds <= TARGET_SECONDS) if scale >= 1 else None,
            notes=(
                f"{count} players, {fingerprints} fingerprints; detection {detect:.2f}s, "
                f"{len(clusters)} clusters ({whole} rings of {RING}), "
                f"{FraudFlag.objects.count()} flags; naive {naive:.2f}s on {len(sample)} "
                f"players ({linked} linked pairs)"
            ),
        )
    ]
