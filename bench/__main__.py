"""`python -m bench`: run the SPEC §12 benchmarks against PostgreSQL and print one line each.

    python -m bench                      # everything that has landed, full scale
    python -m bench --only metrics --only api --scale 0.1
    python -m bench --scale 0.01         # the CI smoke run

Every benchmark is a module `bench/<name>.py` exposing `run(scale: float = 1.0) ->
list[BenchResult]`. It runs with Django's default connection on a freshly migrated scratch
database `<DATABASE_URL name>_<module>` (dropped afterwards), unless the module sets
`OWN_DATABASE = True` and manages its own (metrics, api). A module that does not exist yet prints "skipped: not landed"; one that fails
to import or crashes prints why, the others still run, and the exit status is 1. A missed target
is reported (MISSED) but is not a failure of the run: the figures are the product.
The results also go to a JSON file (--json, default bench/out/results.json).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

# The fixed order of the suite (cheap and self-contained first).
MODULES = (
    "metrics",
    "api",
    "wallet",
    "importer",
    "expressions",
    "rules",
    "safety",
    "backoffice",
    "scaleout",
    "soak",
)
ALIASES = {
    "import": "importer",
    "imports": "importer",
    "expr": "expressions",
    "rule": "rules",
    "dashboard": "backoffice",
}
DEFAULT_JSON = Path(__file__).resolve().parent / "out" / "results.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Pitboss benchmarks (SPEC §12)."
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(MODULES)}",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data size factor (1.0 = SPEC sizes)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="machine-readable output")
    parser.add_argument(
        "--cluster",
        choices=("dedicated", "machine"),
        default="dedicated",
        help="where the wallet and API benchmarks run: a production-configured cluster of "
        "their own (default; bench/cluster.py) or the machine's PostgreSQL",
    )
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.only:
        names = [ALIASES.get(name, name) for name in args.only]
        unknown = sorted(set(names) - set(MODULES))
        if unknown:
            parser.error(
                f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(MODULES)}"
            )
        args.only = names
    return args


def setup_django() -> str:
    """Configure Django on the PostgreSQL in DATABASE_URL; returns the server version."""
    os.environ.setdefault("PITBOSS_DEV", "1")  # a development tool: the development flag
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")  # full-scale loads run for minutes
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(
            "bench: DATABASE_URL must point at PostgreSQL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/pitboss python -m bench"
        )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def load(name: str):
    """The benchmark module, or None when it has not landed (its file does not exist)."""
    try:
        return importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"bench.{name}":
            return None
        raise


def _run(module, name: str, scale: float, cluster: str) -> list:
    """Run one benchmark; one that does not make its own database gets a migrated scratch one
    (`<DATABASE_URL name>_<name>`), so that no benchmark writes into the developer's data. One
    that sets `PRODUCTION_CLUSTER = True` runs on a dedicated production-configured cluster
    (bench/cluster.py) unless `--cluster machine`."""
    from bench import cluster as clusters

    if getattr(module, "PRODUCTION_CLUSTER", False) and cluster == "dedicated":
        if not clusters.available():
            print("   no initdb/pg_ctl here: running on the machine's cluster", flush=True)
        else:
            with clusters.production_cluster() as port, clusters.django_on(port):
                in_force = clusters.settings_in_force(clusters.dsn_kwargs_of_django())
                print(
                    f"   dedicated cluster on port {port}: "
                    + ", ".join(f"{k}={v}" for k, v in sorted(in_force.items())),
                    flush=True,
                )
                return _run_on_database(module, name, scale)
    return _run_on_database(module, name, scale)


def _run_on_database(module, name: str, scale: float) -> list:
    if getattr(module, "OWN_DATABASE", False):
        return list(module.run(scale=scale))
    from bench.db import scratch_database

    with scratch_database(name):
        return list(module.run(scale=scale))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    postgres = setup_django()
    from bench.common import BenchResult

    header = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "postgres": postgres,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "commit": _commit(),
        "scale": args.scale,
        "cluster": args.cluster,
    }
    print(
        f"Pitboss bench  {header['date']}  cores={header['cores']}  PostgreSQL {postgres}  "
        f"Python {header['python']}  commit {header['commit'] or '?'}  scale {args.scale:g}",
        flush=True,
    )
    results: list[BenchResult] = []
    modules: dict[str, dict] = {}
    failed = False
    started_suite = time.perf_counter()
    for name in args.only or MODULES:
        started = time.perf_counter()
        try:
            module = load(name)
        except Exception as error:  # an import error of a landed module is a failure
            failed = True
            modules[name] = {"status": "failed", "error": f"import: {error!r}"}
            print(f"{name:<34} FAILED to import: {error!r}", flush=True)
            traceback.print_exc()
            continue
        if module is None:
            modules[name] = {"status": "skipped", "error": "not landed"}
            print(f"{name:<34} skipped: not landed", flush=True)
            continue
        print(f"-- {name} (scale {args.scale:g})", flush=True)
        try:
            produced = _run(module, name, args.scale, args.cluster)
        except Exception as error:
            failed = True
            seconds = time.perf_counter() - started
            modules[name] = {"status": "failed", "error": repr(error), "seconds": seconds}
            print(f"{name:<34} FAILED after {seconds:.1f}s: {error!r}", flush=True)
            traceback.print_exc()
            continue
        seconds = time.perf_counter() - started
        modules[name] = {"status": "ran", "seconds": round(seconds, 2), "results": len(produced)}
        for result in produced:
            print(result.line(), flush=True)
        results.extend(produced)
        print(f"   {name} took {seconds:.1f}s", flush=True)
    total = time.perf_counter() - started_suite
    print(f"suite finished in {total:.1f}s: {len(results)} figures", flush=True)

    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **header,
        "seconds": round(total, 2),
        "modules": modules,
        "results": [result.as_dict() for result in results],
    }
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {args.json}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
