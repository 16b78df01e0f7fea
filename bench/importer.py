"""Import throughput (SPEC §12): a 1,000,000-row activity CSV end to end against a bare
PostgreSQL COPY of the same file in the same run, and a 200,000-row XLSX.

Run: DATABASE_URL=postgres://… python -m bench.importer [scale]. It needs a migrated database
(it writes players and activity with source "import:activity" and removes them afterwards).
"""

import multiprocessing
import os
import random
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


def _status_kb(field: str) -> int:
    """A `/proc/self/status` figure in kB (VmHWM: peak resident set, VmRSS: current)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _bare_copy(path: str) -> float:
    """Seconds to COPY the CSV file into an index-less temporary table (the old baseline)."""
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


def _floor_copy(folder: str) -> tuple[float, int]:
    """The physical floor: seconds to COPY the rows the import stored, as stored, into an
    empty logged table with players_activity's exact indexes, check constraints and defaults
    (`LIKE … INCLUDING ALL`; no foreign keys: the importer checks those set-based, not per
    row), committed. → (seconds, rows). The rows are exported first (not timed)."""
    from django.db import connection, transaction

    dump = os.path.join(folder, "stored.copy")
    with connection.cursor() as cursor:
        with (
            open(dump, "wb") as out,
            cursor.copy(
                "COPY (SELECT * FROM players_activity WHERE source = 'import:activity' "
                "ORDER BY id) TO STDOUT"
            ) as copy,
        ):
            for data in copy:
                out.write(data)
        cursor.execute("DROP TABLE IF EXISTS bench_floor_activity")
        cursor.execute("CREATE TABLE bench_floor_activity (LIKE players_activity INCLUDING ALL)")
    try:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with (
                open(dump, "rb") as handle,
                cursor.copy("COPY bench_floor_activity FROM STDIN") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            rows = cursor.rowcount
        return time.perf_counter() - started, rows
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_floor_activity")
        os.remove(dump)


def _import(path: str) -> dict:
    """Import a file the way the Celery worker does (every stage, in order) and time it:
    `seconds` covers parse, validate and load (the rows stored); the steps after the load
    (metrics, segmentation, …) are timed apart in `after`."""
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
    peak_after_load = _status_kb("VmHWM") / 1024
    after = time.perf_counter()
    for stage in services.STAGES[3:]:
        services.import_stage_run(job_id=job.pk, stage=stage)
    job = services.ImportJob.objects.get(pk=job.pk)
    return {
        "seconds": elapsed,
        "after": time.perf_counter() - after,
        "status": job.status,
        "message": job.message,
        "stored": job.activities_created,
        "stages": {name: info.get("seconds") for name, info in job.stages.items()},
        "peak_after_load_mb": peak_after_load,
    }


def _worker(path: str, pipe, database: dict) -> None:
    """The import worker: a fresh process of its own, started like a Celery worker (Django set
    up, the importer imported, then the task), which reports its own RSS before the import and
    its peak with the import's figures. Spawned, not forked from the benchmark: a forked child
    would count the benchmark's own pages (earlier benchmarks' data) in its RSS."""
    from bench.__main__ import setup_django

    setup_django()
    from django.db import connections

    import importer.services  # noqa: F401 - a worker has its task modules imported

    connections["default"].close()  # setup_django's check connected to DATABASE_URL's
    connections["default"].settings_dict.update(database)
    try:
        start_kb = _status_kb("VmRSS")
        result = _import(path)
        result["rss_start_mb"] = start_kb / 1024
        result["peak_rss_mb"] = _status_kb("VmHWM") / 1024
        pipe.send(result)
    except BaseException as error:  # noqa: BLE001 — reported to the parent
        pipe.send({"error": f"{error.__class__.__name__}: {error}"})
    finally:
        connections.close_all()
        pipe.close()


def _import_in_worker(path: str) -> dict:
    """Run `_import` in a spawned worker process on Django's current database (the scratch
    database, on whichever cluster); → its result (RuntimeError if it failed)."""
    from django.db import connections

    default = connections["default"]
    database = {key: default.settings_dict[key] for key in ("NAME", "HOST", "PORT", "USER")}
    database["PASSWORD"] = default.settings_dict.get("PASSWORD", "")
    connections.close_all()  # the child opens its own connection
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(path, sending, database))
    worker.start()
    sending.close()
    try:
        result = receiving.recv()
    except EOFError:
        result = {"error": f"the worker exited with status {worker.exitcode} before answering"}
    worker.join()
    if "error" in result:
        raise RuntimeError(f"the import worker failed: {result['error']}")
    return result


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


def _csv_results(csv_rows: int, imported: dict, floor: float, bare: float) -> list[BenchResult]:
    rate = csv_rows / imported["seconds"]
    floor_rate, bare_rate = csv_rows / floor, csv_rows / bare
    from importer.services import STAGES

    times = imported["stages"]
    stages = ", ".join(f"{name} {times[name]}s" for name in STAGES if name in times)
    load = os.getloadavg()[0]
    return [
        BenchResult(
            name=f"import.csv_{csv_rows}",
            measured=rate,
            unit="rows/s",
            baseline=floor_rate,
            baseline_name="floor COPY",
            target=">= 100000 rows/s and >= 0.5x floor COPY",
            met=rate >= 100_000 and rate >= 0.5 * floor_rate,
            notes=f"{imported['status']}, {imported['stored']} stored in "
            f"{imported['seconds']:.1f}s (floor: COPY into activity's indexes "
            f"{floor:.1f}s; bare COPY into a temp table {bare:.2f}s = {bare_rate:,.0f} rows/s, "
            f"ratio {rate / bare_rate:.3f}); after the load (not in the rate) "
            f"{imported['after']:.1f}s; stages {stages}; load average {load:.1f}",
        ),
        BenchResult(
            name=f"import.worker_peak_rss_{csv_rows}",
            measured=imported["peak_rss_mb"],
            unit="MB",
            baseline=imported["rss_start_mb"],
            baseline_name="idle worker",
            target="<= 400 MB",
            met=imported["peak_rss_mb"] <= 400,
            notes="VmHWM of the spawned worker process that ran every stage of the CSV import "
            f"({imported['peak_after_load_mb']:.0f} MB at the end of the load, before the "
            "post-import steps); baseline: its RSS before the import",
        ),
    ]


def run(scale: float = 1.0) -> list[BenchResult]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    django.setup()

    results = []
    csv_rows = max(int(1_000_000 * scale), 1000)
    xlsx_rows = max(int(200_000 * scale), 1000)
    with tempfile.TemporaryDirectory() as folder:
        csv_path = os.path.join(folder, "activity.csv")
        _write_csv(csv_path, csv_rows)
        _cleanup()
        try:
            imported = _import_in_worker(csv_path)
            floor, floor_rows = _floor_copy(folder)
            if floor_rows != csv_rows:
                raise RuntimeError(f"the import stored {floor_rows} of {csv_rows} rows")
            bare = _bare_copy(csv_path)
            results += _csv_results(csv_rows, imported, floor, bare)
            for result in results:  # before the slow clean-up and the XLSX run
                print(result.line(), flush=True)
        finally:
            _cleanup()
        xlsx_path = os.path.join(folder, "activity.xlsx")
        _write_xlsx(xlsx_path, xlsx_rows)
        try:
            imported = _import_in_worker(xlsx_path)
            floor, _ = _floor_copy(folder)
            rate = xlsx_rows / imported["seconds"]
            results.append(
                BenchResult(
                    name=f"import.xlsx_{xlsx_rows}",
                    measured=rate,
                    unit="rows/s",
                    baseline=xlsx_rows / floor,
                    baseline_name="floor COPY",
                    target=">= 20000 rows/s",
                    met=rate >= 20_000,
                    notes=f"{imported['status']}, {imported['stored']} stored in "
                    f"{imported['seconds']:.1f}s, worker peak RSS "
                    f"{imported['peak_rss_mb']:.0f} MB",
                )
            )
        finally:
            _cleanup()
    print(results[-1].line(), flush=True)
    return results


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
