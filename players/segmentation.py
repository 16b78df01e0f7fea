"""Set-based lifecycle segmentation (SPEC §5).

Two statements per refresh: one INSERT … SELECT records a `SegmentChange` (with the metric
values behind it) for every player whose segment changes, and one UPDATE … FROM moves those
players to their new segment. The rules, in order:

1. `vip`: 30-day turnover or 30-day deposits at or over the threshold for the player's currency
   (a `VipThreshold` row, else the policy's defaults);
2. `new`: no bet yet (lifetime bet count 0);
3. `winning` / `losing`: lifetime player_net above `band` / below `-band`, where
   band = max(band_minimum, band_turnover_share × lifetime turnover);
4. otherwise `breakeven`.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from players.analytics import Dialect
from players.models import SegmentPolicy

EVIDENCE = {
    "turnover_30d": "m30.turnover",
    "deposits_30d": "m30.deposits",
    "turnover_lifetime": "ml.turnover",
    "player_net_lifetime": "ml.player_net",
    "bet_count_lifetime": "ml.bet_count",
    "band": "({band})",
}


def _new_segment_sql(dialect: Dialect, scoped: str) -> str:
    # Parameters are CAST so that SQLite compares numbers (a bound Decimal arrives as text).
    band = (
        "CASE WHEN ml.turnover * CAST(%(band_share)s AS NUMERIC) > CAST(%(band_min)s AS NUMERIC) "
        "THEN ml.turnover * CAST(%(band_share)s AS NUMERIC) ELSE CAST(%(band_min)s AS NUMERIC) END"
    )
    evidence = {key: f"CAST({value.format(band=band)} AS TEXT)" for key, value in EVIDENCE.items()}
    sql = f"""
        SELECT p.id AS player_id, p.segment AS from_segment,
            CASE
                WHEN m30.turnover >= COALESCE(vt.vip_turnover_30d, CAST(%(vip_turnover)s AS NUMERIC))
                  OR m30.deposits >= COALESCE(vt.vip_deposits_30d, CAST(%(vip_deposits)s AS NUMERIC)) THEN 'vip'
                WHEN ml.bet_count <= 0 THEN 'new'
                WHEN ml.player_net > {band} THEN 'winning'
                WHEN ml.player_net < -({band}) THEN 'losing'
                ELSE 'breakeven'
            END AS to_segment,
            {dialect.json_object(evidence)} AS evidence
        FROM players_player p
        JOIN players_playermetrics ml ON ml.player_id = p.id AND ml."window" = 'lifetime'
        JOIN players_playermetrics m30 ON m30.player_id = p.id AND m30."window" = '30d'
        LEFT JOIN players_vipthreshold vt
            ON vt.currency_id = p.currency_id AND vt.policy_id = %(policy_id)s
        WHERE {scoped}
    """
    return sql


def segments_refresh_execute(*, changed_at: datetime, player_ids: Sequence[int] | None) -> int:
    """Record and apply every segment change; returns how many players changed segment."""
    dialect = Dialect(connection.vendor)
    policy = SegmentPolicy.current()
    params = {
        "policy_id": policy.pk,
        "vip_turnover": policy.vip_turnover_30d,
        "vip_deposits": policy.vip_deposits_30d,
        "band_share": policy.band_turnover_share,
        "band_min": policy.band_minimum,
        "changed_at": dialect.timestamp(changed_at),
    }
    scoped = "TRUE"
    if player_ids is not None:
        params["player_ids"] = dialect.player_ids_param(player_ids)
        scoped = dialect.player_filter("p.id")
    new_segments = _new_segment_sql(dialect, scoped)
    record = f"""
        INSERT INTO players_segmentchange (player_id, from_segment, to_segment, changed_at, metrics)
        SELECT s.player_id, s.from_segment, s.to_segment, %(changed_at)s, s.evidence
        FROM ({new_segments}) s
        WHERE s.to_segment <> s.from_segment
    """
    apply = """
        UPDATE players_player SET segment = c.to_segment
        FROM players_segmentchange c
        WHERE c.player_id = players_player.id AND c.changed_at = %(changed_at)s
          AND players_player.segment <> c.to_segment
    """
    with connection.cursor() as cursor:
        cursor.execute(record, params)
        changed = cursor.rowcount
        if changed:
            cursor.execute(apply, {"changed_at": params["changed_at"]})
    return changed
