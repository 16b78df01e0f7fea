"""`python -m bench`: run the SPEC §12 benchmarks against PostgreSQL and print one line each.

    python -m bench                      # everything that has landed, full scale
    python -m bench --only metrics --only api --scale 0.1
    python -m bench --scale 0.01         # the CI smoke run

Every benchmark is a module `bench/<name>.py` exposing `run(scale: float = 1.0) ->
list[BenchResult]`. It runs with Django's default connection on a migrated scratch database
`<DATABASE_URL name>_<module>` (dropped afterwards), unless the module sets `OWN_DATABASE = True`
and makes its own (metrics, api, soak). Either way the scratch database is a copy of a template
migrated once per run and server (bench/db.py `migrated_templates`), and the modules that set
`PRODUCTION_CLUSTER = True` share one dedicated cluster started for the run (`_Clusters`; ADR
0028). A module that does not exist yet prints "skipped: not landed"; one that fails
to import or crashes prints why, the others still run, and the exit status is 1. A missed target
is reported (MISSED) but is not a failure of the run: the figures are the product. At full
scale each benchmark after the first waits until the machine is quiet (`bench.common.
machine_settle`: under 20% CPU busy over a second, at most 60 s; printed as "machine settled").
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
        choices=("dedicated", "per-module", "machine"),
        default="dedicated",
        help="where the wallet, API and soak benchmarks run: one production-configured cluster "
        "for the run (default; bench/cluster.py), a new one for each of them, or the machine's "
        "PostgreSQL",
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


class _Clusters:
    """Where the benchmarks that set `PRODUCTION_CLUSTER = True` run (bench/cluster.py).

    `dedicated` (the default): one production-configured cluster for the whole run, started
    when the first of them needs it and stopped at the end; before each of them it is
    checkpointed and its cluster-wide statistics (bgwriter, WAL) are reset, and each has its
    own scratch database, as on a cluster of its own. `per-module`: a new cluster for each
    (initdb, start, migrate, stop). `machine`: the machine's PostgreSQL."""

    def __init__(self, mode: str, stack: ExitStack) -> None:
        self.mode, self.stack = mode, stack
        self.port: int | None = None
        self.used_by: list[str] = []

    @contextmanager
    def around(self, module, name: str) -> Iterator[None]:
        from bench import cluster as clusters
        from bench.db import migrated_templates

        if not getattr(module, "PRODUCTION_CLUSTER", False) or self.mode == "machine":
            yield
            return
        if not clusters.available():
            print("   no initdb/pg_ctl here: running on the machine's cluster", flush=True)
            yield
            return
        if self.mode == "per-module":
            with (
                clusters.production_cluster() as port,
                clusters.django_on(port),
                migrated_templates(own=True),
            ):
                self._print(port, "started for this benchmark")
                yield
            return
        started = time.perf_counter()
        if self.port is None:
            # on the run's stack, entered before the templates: they are dropped first
            self.port = self.stack.enter_context(clusters.production_cluster())
            how = f"started for this run in {time.perf_counter() - started:.1f}s"
        else:
            how = f"shared with {', '.join(self.used_by)}"
        with clusters.django_on(self.port):
            clusters.cluster_reset(clusters.dsn_kwargs_of_django())
            self._print(self.port, how + "; checkpointed, statistics reset")
            self.used_by.append(name)
            yield

    def _print(self, port: int, how: str) -> None:
        from bench import cluster as clusters

        in_force = clusters.settings_in_force(clusters.dsn_kwargs_of_django())
        print(
            f"   dedicated cluster on port {port} ({how}): "
            + ", ".join(f"{k}={v}" for k, v in sorted(in_force.items())),
            flush=True,
        )


def _run(module, name: str, scale: float, clusters: _Clusters) -> list:
    """Run one benchmark; one that does not make its own database gets a migrated scratch one
    (`<DATABASE_URL name>_<name>`), so that no benchmark writes into the developer's data. One
    that sets `PRODUCTION_CLUSTER = True` runs on a dedicated production-configured cluster
    (`_Clusters`) unless `--cluster machine`."""
    with clusters.around(module, name):
        if getattr(module, "OWN_DATABASE", False):
            return list(module.run(scale=scale))
        from bench.db import scratch_database

        with scratch_database(name):
            return list(module.run(scale=scale))


def _settle(scale: float) -> dict:
    """At full scale, where targets are judged, wait for a quiet machine before a benchmark:
    what the one before left running (its processes exiting, autovacuum, a checkpoint) is not
    this one's to pay for. Printed, and → the wait for the JSON file ({} at smaller scales)."""
    from bench.common import machine_settle

    if scale < 1:
        return {}
    settled = machine_settle()
    how = "settled in" if settled.quiet else "still busy after"
    print(f"   machine {how} {settled.seconds:.0f}s (CPU {settled.busy:.0%} busy)", flush=True)
    return {"settle_seconds": round(settled.seconds, 1), "settle_busy": round(settled.busy, 3)}


def _run_all(
    args: argparse.Namespace, clusters: _Clusters, results: list, modules: dict[str, dict]
) -> bool:
    """Run the chosen benchmarks in order, printing as they go; → whether any failed. Each one
    after the first that ran (or crashed) waits for a quiet machine first (`_settle`)."""
    failed = False
    for name in args.only or MODULES:
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
        after_another = any(entry.get("seconds") is not None for entry in modules.values())
        settled = _settle(args.scale) if after_another else {}
        started = time.perf_counter()
        try:
            produced = _run(module, name, args.scale, clusters)
        except Exception as error:
            failed = True
            seconds = time.perf_counter() - started
            modules[name] = {
                "status": "failed",
                "error": repr(error),
                "seconds": seconds,
                **settled,
            }
            print(f"{name:<34} FAILED after {seconds:.1f}s: {error!r}", flush=True)
            traceback.print_exc()
            continue
        seconds = time.perf_counter() - started
        modules[name] = {
            "status": "ran",
            "seconds": round(seconds, 2),
            "results": len(produced),
            **settled,
        }
        for result in produced:
            print(result.line(), flush=True)
        results.extend(produced)
        print(f"   {name} took {seconds:.1f}s", flush=True)
    return failed


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
    from bench.db import migrated_templates

    results: list[BenchResult] = []
    modules: dict[str, dict] = {}
    started_suite = time.perf_counter()
    # The dedicated cluster (entered on `stack` when first needed) outlives the templates.
    with ExitStack() as stack, migrated_templates():
        clusters = _Clusters(args.cluster, stack)
        failed = _run_all(args, clusters, results, modules)
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
