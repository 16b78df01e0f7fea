"""What every benchmark returns: one measured figure beside its same-run baseline and target."""

import socket
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
