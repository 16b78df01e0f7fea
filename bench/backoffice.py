"""The back office dashboard (the admin index) rendered for a logged-in staff user, with
100,000 players × scale (SPEC §11, issue 17: under 300 ms).

    DATABASE_URL=postgres://… python -m bench --only backoffice

Runs on a migrated scratch database (bench/db.py). The data is the metrics benchmark's casino
(bench/generate.py: 100,000 players, 5,000,000 activity rows ending now) loaded by COPY, with
metrics and segments refreshed by the real services, then, generated in SQL: 20 rules and
300,000 issued rewards over 90 days (1% waiting in the review queue), 200,000 bonus activity
rows (converted, cash paid, granted), 5,000 fraud flags and 200 import jobs; finally the
dashboard's daily roll-up is built (`players.services.activity_days_refresh`, as the nightly
refresh and every import do) and its time printed.

Measured, through Django's test client in this process (no network; the template, the
selectors and the JSON of the charts included): the median of `ROUNDS` GET /admin/ (the
30-day dashboard) and GET /admin/?days=90, after a warm-up. The baseline, in the same run: the
median GET of a trivial admin list (the role groups, /admin/auth/group/), i.e. the cost of the
session, the user and the admin's base template, which every admin page pays.
"""

import statistics
import time
from datetime import UTC, datetime

from bench.common import BenchResult
from bench.db import load_casino, vacuum_analyze
from bench.generate import generate

PLAYERS = 100_000
ACTIVITIES = 5_000_000
REWARDS = 300_000
BONUS_ACTIVITY = 200_000
FLAGS = 5_000
RULES = 20
ROUNDS = 15
TARGET_MS = 300.0


def _generate_back_office_rows(scale: float, players: int) -> None:
    """Rules, runs, rewards, bonus activity, flags and import jobs, by INSERT … SELECT."""
    from django.db import connection

    rewards = max(1_000, int(REWARDS * scale))
    bonus = max(500, int(BONUS_ACTIVITY * scale))
    flags = max(50, int(FLAGS * scale))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO rewards_rule (name, description, active, priority, exclusive, trigger,
                schedule, target_segments, condition, reward_type, amount, limits,
                holdout_percent, acquisition, max_cost_share, lookback, version, created_at,
                updated_at)
            SELECT 'bench-rule-' || g, '', true, g, false, 'manual', '', '[]', '', 'bonus',
                '10', '{}', 0, false, 0.30, '30d', 1, now(), now()
            FROM generate_series(1, %s) g
            """,
            [RULES],
        )
        cursor.execute(
            """
            INSERT INTO rewards_rulerun (trigger, rule_ids, status, players_total, players_done,
                chunks_total, chunks_done, issued, review, rejected, held_out, capped,
                not_matched, error, created_at)
            SELECT 'manual', '[]', 'succeeded', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '',
                now() - make_interval(days => g)
            FROM generate_series(0, 89) g
            """
        )
        # reward g: run (day) g % 90, rule (g / 90) % 20, player (g / 1800) % players: unique
        cursor.execute(
            """
            WITH runs AS (SELECT array_agg(id ORDER BY id) AS ids FROM rewards_rulerun),
                 rules AS (SELECT array_agg(id ORDER BY id) AS ids FROM rewards_rule)
            INSERT INTO rewards_reward (rule_id, rule_version, player_id, run_id, reward_type,
                status, reason, amount, currency_id, requested_amount, expected_cost,
                reporting_amount, note, created_at)
            SELECT rules.ids[(g / 90) %% %(rules)s + 1], 1, (g / 1800) %% %(players)s + 1,
                runs.ids[g %% 90 + 1], 'bonus',
                CASE WHEN g %% 100 = 0 THEN 'pending_review' ELSE 'issued' END, '',
                5 + g %% 50, 'EUR', 5 + g %% 50, 1, 5 + g %% 50, '',
                now() - make_interval(days => g %% 90, hours => g %% 24)
            FROM generate_series(0, %(rewards)s - 1) g, runs, rules
            """,
            {"rules": RULES, "players": players, "rewards": rewards},
        )
        cursor.execute(
            """
            INSERT INTO players_bonusactivity (player_id, kind, player_amount, occurred_at)
            SELECT g %% %(players)s + 1, (ARRAY['converted', 'cash_paid', 'granted'])[g %% 3 + 1],
                1 + g %% 40, now() - make_interval(days => g %% 90, hours => g %% 24)
            FROM generate_series(0, %(bonus)s - 1) g
            """,
            {"players": players, "bonus": bonus},
        )
        cursor.execute(
            """
            INSERT INTO safety_fraudflag (player_id, signal, key, score, strength, status,
                evidence, created_at, updated_at, note)
            SELECT g %% %(players)s + 1,
                (ARRAY['shared_device', 'shared_ip', 'bonus_ratio', 'chargeback',
                       'max_bet_breach'])[g %% 5 + 1],
                'bench-' || g, 10, 1, CASE WHEN g %% 4 = 0 THEN 'dismissed' ELSE 'open' END,
                '{}', now() - make_interval(hours => g %% 500), now(),
                CASE WHEN g %% 4 = 0 THEN 'bench' ELSE '' END
            FROM generate_series(0, %(flags)s - 1) g
            """,
            {"players": players, "flags": flags},
        )
        cursor.execute(
            """
            INSERT INTO importer_importjob (kind, status, stage, file, original_name, file_format,
                mapping, rows_total, rows_done, rows_rejected, activities_created,
                players_created, players_updated, errors, warnings, counts, error_report,
                error_code, message, stages, created_at, on_error, on_conflict, encoding,
                delimiter, sheet, decimal_separator, thousands_separator, date_order, time_zone)
            SELECT 'activity',
                (ARRAY['succeeded', 'succeeded', 'failed', 'running', 'queued'])[g % 5 + 1],
                'done', 'imports/bench.csv', 'bench.csv', 'csv', '{}', 0, 0, 0, 0, 0, 0, '[]',
                '[]', '{}', '', '', '', '{}', now() - make_interval(hours => g), 'reject',
                'reject', '', '', '', '', '', '', ''
            FROM generate_series(0, 199) g
            """
        )
    vacuum_analyze(
        "rewards_reward", "players_bonusactivity", "safety_fraudflag", "importer_importjob",
        "players_playermetrics",
    )  # fmt: skip


def _median_ms(client, url: str) -> tuple[float, float]:
    """(median, max) of `ROUNDS` GETs of `url` in milliseconds, after two warm-up GETs."""
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return statistics.median(times), max(times)


def run(scale: float = 1.0) -> list[BenchResult]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from players.services import activity_days_refresh, metrics_refresh, segments_refresh

    players = max(100, int(PLAYERS * scale))
    activities = max(2_000, int(ACTIVITIES * scale))
    now = datetime.now(UTC)
    started = time.perf_counter()
    load_casino(generate(players, activities, seed=17, now=now))
    metrics_refresh(player_ids=None, as_of=now)
    segments_refresh(player_ids=None)
    _generate_back_office_rows(scale, players)
    loaded = time.perf_counter()
    activity_days_refresh()  # what the nightly refresh and every import do
    rolled_up = time.perf_counter()
    print(
        f"   loaded {players:,} players / {activities:,} activities and the back office rows "
        f"in {loaded - started:.1f}s; daily roll-up (90 days) built in {rolled_up - loaded:.1f}s",
        flush=True,
    )

    user = get_user_model().objects.create_superuser("bench-staff", "bench@example.test", "x")
    client = Client()
    client.force_login(user)
    baseline, _ = _median_ms(client, "/admin/auth/group/")
    results = []
    full = scale >= 1.0
    for days in (30, 90):
        median, worst = _median_ms(client, f"/admin/?days={days}")
        results.append(
            BenchResult(
                name=f"backoffice.dashboard_{days}d_{players // 1000}k_players",
                measured=median,
                unit="ms",
                baseline=baseline,
                baseline_name="trivial admin list",
                target=f"< {TARGET_MS:g} ms at 100k players",
                met=median < TARGET_MS if full else None,
                notes=f"median of {ROUNDS}, max {worst:.0f} ms",
            )
        )
    return results
