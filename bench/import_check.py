"""The Python side of the CSV import — reading, checking and staging rows — timed without the
database (ADR 0030): the validate stage's loop (importer/services.py `_validate`) less the COPY
and the progress updates, on `bench/importer.py`'s generated file.

Run: PITBOSS_DEV=1 DATABASE_URL=postgres://… python -m bench.import_check [rows] [runs]
(the database is not touched; its vendor decides how timestamps are staged). Prints each run's
seconds per part and the median; run it interleaved with another checkout to compare.
"""

import os
import statistics
import sys
import tempfile
import time


def _run(path: str) -> dict[str, float]:
    from importer.fields import mapping_parse
    from importer.reading import file_chunks, file_sniff
    from importer.records import staging_rows
    from importer.services import CHUNK_ROWS
    from importer.validation import Context, check_chunk

    info = file_sniff(path=path)
    mapping = mapping_parse(kind="activity", raw={}, columns=info.columns)
    context = Context(minor_units={"EUR": 2})
    seconds = {"read": 0.0, "check": 0.0, "stage": 0.0}
    started = time.perf_counter()
    chunks = file_chunks(path=path, info=info, chunk_rows=CHUNK_ROWS)
    while True:
        before = time.perf_counter()
        chunk = next(chunks, None)
        read = time.perf_counter()
        seconds["read"] += read - before
        if chunk is None:
            break
        result = check_chunk(chunk=chunk, mapping=mapping, context=context)
        checked = time.perf_counter()
        staging_rows(kind="activity", values=result.values)
        seconds["check"] += checked - read
        seconds["stage"] += time.perf_counter() - checked
    seconds["total"] = time.perf_counter() - started
    return seconds


def main() -> None:
    import django

    from config.entrypoints import settings_module_set_default

    settings_module_set_default()
    django.setup()
    from bench.importer import _write_csv

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "activity.csv")
        _write_csv(path, rows)
        totals = []
        for _ in range(runs):
            load = os.getloadavg()[0]
            seconds = _run(path)
            totals.append(seconds["total"])
            parts = ", ".join(f"{k} {v:.2f}" for k, v in seconds.items())
            print(f"{rows} rows: {parts} s (load average {load:.1f})", flush=True)
    print(f"median {statistics.median(totals):.2f} s")


if __name__ == "__main__":
    main()
