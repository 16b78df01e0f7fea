"""Multi-account clusters: players linked by any shared device, IP or payment instrument.

Set-based in two steps: one SQL statement returns only the fingerprints whose value is shared by
two or more players (GROUP BY kind, value HAVING …) — a small fraction of the table — and a
union-find over those rows joins players into clusters (connected components of the graph
player — shared value — player; a path through several values links a whole ring). A value seen
on more than `shared_value_max_players` players (a mobile carrier's NAT, an internet café) links
nobody: it would glue thousands of strangers into one cluster.

Scoring (docs/safety.md): each member gets one flag per kind it shares (`shared_device`,
`shared_ip`, `shared_payment`), scored weight × size_factor(cluster size) with
size_factor(n) = 1 + ½·log2(n / 2): a pair scores the weight, a ring of 4 1.5×, of 8 2×.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from players.models import Fingerprint

SIGNAL_OF_KIND = {
    Fingerprint.Kind.DEVICE: "shared_device",
    Fingerprint.Kind.IP: "shared_ip",
    Fingerprint.Kind.PAYMENT: "shared_payment",
}


@dataclass
class Cluster:
    """Players linked by shared values; `shared` maps (kind, value) → the players sharing it."""

    players: list[int]
    shared: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.players)

    def values_by_kind(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for kind, value in sorted(self.shared):
            out[kind].append(value)
        return dict(out)


def size_factor(size: int) -> Decimal:
    """1 + ½·log2(size / 2): how much a cluster of `size` players multiplies a signal's weight."""
    return Decimal(str(round(1 + 0.5 * math.log2(max(size, 2) / 2), 4)))


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb


_SHARED_SQL = f"""
SELECT f.kind, f.value, f.player_id
  FROM {Fingerprint._meta.db_table} f
  JOIN (SELECT kind, value FROM {Fingerprint._meta.db_table}
         GROUP BY kind, value HAVING COUNT(*) BETWEEN 2 AND %s) s
    ON s.kind = f.kind AND s.value = f.value
"""


def shared_fingerprints(*, max_players: int) -> list[tuple[str, str, int]]:
    """(kind, value, player_id) of every value shared by 2..max_players players (one query;
    a fingerprint is unique per player, so COUNT(*) counts players)."""
    with connection.cursor() as cursor:
        cursor.execute(_SHARED_SQL, [max_players])
        return cursor.fetchall()


def clusters_find(rows: list[tuple[str, str, int]]) -> list[Cluster]:
    """Connected components of the shared-value graph (union-find), largest first."""
    uf = _UnionFind()
    by_value: dict[tuple[str, str], list[int]] = defaultdict(list)
    for kind, value, player_id in rows:
        by_value[(kind, value)].append(player_id)
    for players in by_value.values():
        first = players[0]
        for other in players[1:]:
            uf.union(first, other)
    members: dict[int, list[int]] = defaultdict(list)
    for player_id in {p for players in by_value.values() for p in players}:
        members[uf.find(player_id)].append(player_id)
    clusters = {root: Cluster(players=sorted(ps)) for root, ps in members.items()}
    for key, players in by_value.items():
        clusters[uf.find(players[0])].shared[key] = sorted(players)
    return sorted(clusters.values(), key=lambda c: (-c.size, c.players[0]))


def fingerprint_clusters(*, max_players: int) -> list[Cluster]:
    """Every multi-account cluster in the database (see module docstring)."""
    return clusters_find(shared_fingerprints(max_players=max_players))
