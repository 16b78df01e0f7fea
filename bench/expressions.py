"""Expression evaluation over 100,000 players × scale: one at a time vs vectorised vs SQL.

    DATABASE_URL=postgres://… python -c "from bench.expressions import run; run()"

Needs PostgreSQL. Players and metrics are generated in the database (INSERT … SELECT from
generate_series) inside one transaction that is rolled back at the end, so the database is
left as it was even if the run is interrupted.

For a 6-clause condition and an amount formula it measures players per second of:
- scalar: the per-event path — load one player's names (one query) and evaluate, for a
  sample of players (the figure is per player, so the sample size does not bias it);
- vectorised: load every player's names in one query into a DataFrame and evaluate;
- sql: evaluate in the database (filter / annotate) and fetch the result.
Target (issue 4): SQL and vectorised at least 50× faster per player than scalar. The notes
also give the pure in-memory evaluation figures (values already loaded) for transparency.
"""

import os
import time

from bench.common import BenchResult

PLAYERS = 100_000
SCALAR_SAMPLE = 1_000
PREFIX = "bench-expr-"
CONDITION = (
    'segment in ["losing", "breakeven"] and net_loss_7d >= 50 and deposits_30d > 100 '
    'and rtp_30d < 0.95 and risk_score < 60 and country != "US"'
)
FORMULA = "round(clamp(net_loss_7d * 0.10 + deposits_30d * 0.01, 5, 100), 2)"
TARGET_RATIO = 50.0


class _Rollback(Exception):
    pass


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _generate(count: int) -> tuple[int, int]:
    """Insert `count` players and their three metrics rows; return their id range."""
    from django.db import connection

    from players.models import PlayerMetrics

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO players_player (external_id, username, email, country, currency_id,
                registered_at, status, segment, risk_score, no_bonus, created_at)
            SELECT %s || g, '', '', (ARRAY['DE','AT','GB','US',''])[1 + g %% 5], 'EUR',
                now() - (g %% 900) * interval '1 day', 'active',
                (ARRAY['new','breakeven','losing','winning','vip'])[1 + g %% 5],
                g %% 101, false, now()
            FROM generate_series(1, %s) AS g
            RETURNING id
            """,
            [PREFIX, count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns, values = [], []
        for field in PlayerMetrics._meta.concrete_fields:
            if field.name in {"id", "player", "window", "as_of"}:
                continue
            columns.append(quote(field.column))
            kind = field.get_internal_type()
            if field.null and kind == "DecimalField":
                values.append(
                    "CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * 1.5)::numeric, 6) END"
                )
            elif field.null:
                values.append("CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 30)::int END")
            elif kind == "DecimalField":
                values.append("round((random() * 2000 - 200)::numeric, 2)")
            else:
                values.append("(random() * 50)::int")
        cursor.execute(
            f"""
            INSERT INTO players_playermetrics (player_id, {quote("window")}, as_of,
                {", ".join(columns)})
            SELECT p.id, w.name, now(), {", ".join(values)}
            FROM players_player p CROSS JOIN (VALUES ('lifetime'), ('30d'), ('7d')) AS w(name)
            WHERE p.id BETWEEN %s AND %s
            """,
            [min(ids), max(ids)],
        )
        cursor.execute("ANALYZE players_player")
        cursor.execute("ANALYZE players_playermetrics")
    return min(ids), max(ids)


def _measure(text: str, context: str, low: int, high: int) -> dict[str, float]:
    import pandas as pd

    from players.models import Player
    from rewards.expressions import compile_expression
    from rewards.names import players_values, players_with_names

    expression = compile_expression(text, context=context)
    players = Player.objects.filter(pk__gte=low, pk__lte=high)
    count = high - low + 1
    figures: dict[str, float] = {}

    started = time.perf_counter()
    queryset, resolve = players_with_names(players, expression.names)
    if expression.is_condition:
        sql_result = list(
            queryset.filter(expression.to_django(resolve)).values_list("id", flat=True)
        )
    else:
        sql_result = list(
            queryset.annotate(result=expression.to_django(resolve)).values_list("id", "result")
        )
    figures["sql"] = count / (time.perf_counter() - started)

    started = time.perf_counter()
    rows = players_values(players, expression.names)
    frame = pd.DataFrame.from_records(rows)
    loaded = time.perf_counter()
    vector_result = expression.evaluate_frame(frame)
    done = time.perf_counter()
    figures["vectorised"] = count / (done - started)
    figures["vectorised_eval_only"] = count / (done - loaded)

    started = time.perf_counter()
    scalar_all = [expression.evaluate(row) for row in rows]
    figures["scalar_eval_only"] = count / (time.perf_counter() - started)

    sample = [row["id"] for row in rows[:: max(1, count // SCALAR_SAMPLE)]][:SCALAR_SAMPLE]
    started = time.perf_counter()
    for player_id in sample:
        (values,) = players_values(Player.objects.filter(pk=player_id), expression.names)
        expression.evaluate(values)
    figures["scalar"] = len(sample) / (time.perf_counter() - started)

    if expression.is_condition:  # the three evaluators must agree on the same data
        matched = {row["id"] for row, hit in zip(rows, scalar_all, strict=True) if hit}
        assert matched == set(sql_result), "scalar and SQL disagree"
        assert matched == set(frame["id"][vector_result.to_numpy()]), (
            "scalar and vectorised disagree"
        )
    figures["matched"] = (
        len(sql_result) if expression.is_condition else sum(v is not None for v in scalar_all)
    )
    return figures


def run(scale: float = 1.0) -> list[BenchResult]:
    """Run the benchmark on `100_000 × scale` players; print and return the figures."""
    _setup_django()
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise RuntimeError("bench.expressions needs PostgreSQL: set DATABASE_URL")
    count = max(1000, int(PLAYERS * scale))
    results: list[BenchResult] = []
    try:
        with transaction.atomic():
            low, high = _generate(count)
            for label, text, context in (
                ("condition6", CONDITION, "condition"),
                ("formula", FORMULA, "amount"),
            ):
                figures = _measure(text, context, low, high)
                for evaluator in ("sql", "vectorised"):
                    ratio = figures[evaluator] / figures["scalar"]
                    results.append(
                        BenchResult(
                            name=f"expressions.{label}.{evaluator}",
                            measured=figures[evaluator],
                            unit="players/s",
                            baseline=figures["scalar"],
                            baseline_name="scalar",
                            target=f">= {TARGET_RATIO:.0f}x scalar per player",
                            met=ratio >= TARGET_RATIO,
                            notes=(
                                f"{count} players, {figures['matched']:.0f} matched/valued; "
                                f"eval-only vectorised {figures['vectorised_eval_only']:,.0f}/s "
                                f"vs scalar {figures['scalar_eval_only']:,.0f}/s"
                            ),
                        )
                    )
            raise _Rollback
    except _Rollback:
        pass
    for result in results:
        print(result.line())
    return results


if __name__ == "__main__":
    run(float(os.environ.get("BENCH_SCALE", "1")))
