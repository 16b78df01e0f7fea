"""What every benchmark returns: one measured figure beside its same-run baseline and target."""

import os
import socket
import time
from dataclasses import asdict, dataclass


@dataclass
class BenchResult:
    name: str  # e.g. "import.csv_1m"
    measured: float
    unit: str  # e.g. "rows/s"
    baseline: float | None = None  # the same-run baseline (bare COPY, pgbench, naive loop)
    baseline_name: str = ""
    target: str = ""  # the SPEC §12 target in words, e.g. ">= 100000 rows/s and >= 30% of COPY"
    met: bool | None = None
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline:
            return None
        return self.measured / self.baseline

    def line(self) -> str:
        ratio = f"{self.ratio:.3g}x {self.baseline_name}" if self.ratio is not None else "-"
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[self.met]
        baseline = f"{self.baseline:,.1f}" if self.baseline is not None else "-"
        return (
            f"{self.name:<34} {self.measured:>14,.1f} {self.unit:<10} baseline {baseline:>14} "
            f"ratio {ratio:<22} target {self.target:<40} {verdict} {self.notes}"
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def free_port() -> int:
    """A free TCP port on loopback, for a server or cluster a benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Process groups of `cpu_seconds_by_group`, by the first fragment found in the command line.
PROCESS_GROUPS = (("gunicorn", "gunicorn"), ("postgres", "postgres"), ("redis", "redis"))


def cpu_seconds_by_group(own: str = "load generator") -> dict[tuple[str, int], float]:
    """CPU seconds (user + system) each process of this machine has used so far, keyed by
    (group, pid): `own` for this process, "gunicorn", "postgres" (every server process,
    checkpointer and WAL writer included), "redis" or "other" (Linux /proc; empty elsewhere).
    Subtract two calls with `cpu_used` to see where a load's CPU went."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat, open(f"/proc/{pid}/cmdline", "rb") as cmd:
                fields, command = stat.read(), cmd.read().decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        used = fields[fields.rindex(")") + 2 :].split()  # utime, stime: fields 14 and 15
        group = own if int(pid) == os.getpid() else _group(command)
        seconds[(group, int(pid))] = (int(used[11]) + int(used[12])) / tick
    return seconds


def _group(command: str) -> str:
    """The PROCESS_GROUPS name of the first fragment found in `command`, else "other"."""
    return next((name for name, fragment in PROCESS_GROUPS if fragment in command), "other")


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per group between two `cpu_seconds_by_group` snapshots, largest first."""
    groups: dict[str, float] = {}
    for key, seconds in after.items():
        groups[key[0]] = groups.get(key[0], 0.0) + seconds - before.get(key, 0.0)
    return dict(sorted(groups.items(), key=lambda item: -item[1]))


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat). Waiting
    for I/O counts as busy: a checkpoint or a vacuum writing out is work left running."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:8]]  # user … softirq
    idle = fields[3]
    return sum(fields) - idle, sum(fields)


@dataclass
class Settled:
    seconds: float  # waited
    busy: float  # the last sample's busy share, 0–1 of all cores together
    quiet: bool  # False: `longest` ran out first


def machine_settle(
    *, busy_below: float = 0.2, window: float = 1.0, longest: float = 60.0
) -> Settled:
    """Wait until the machine's CPUs were less than `busy_below` busy (0–1, all cores together;
    waiting for I/O counts as busy) over a `window`-second sample, at most `longest` seconds:
    what an earlier benchmark left running (its processes exiting, a cluster's autovacuum or
    checkpoint) must not be measured as this one's. The 1-minute load average is no such test:
    it still shows a load that ended a minute ago."""
    started = time.perf_counter()
    while True:
        busy_before, total_before = _cpu_jiffies()
        time.sleep(window)
        busy_after, total_after = _cpu_jiffies()
        share = (busy_after - busy_before) / max(1, total_after - total_before)
        waited = time.perf_counter() - started
        if share < busy_below or waited >= longest:
            return Settled(waited, share, quiet=share < busy_below)
