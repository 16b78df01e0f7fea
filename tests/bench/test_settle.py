"""The runner's wait for a quiet machine between full-scale benchmarks (bench.common,
bench.__main__)."""

import argparse
import sys
import types
from contextlib import ExitStack

import pytest

import bench.__main__ as runner
import bench.common
from bench.common import Settled, machine_settle

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")


@linux
def test_a_machine_quiet_enough_is_not_waited_for():
    settled = machine_settle(busy_below=1.01, window=0.05, longest=5)
    assert settled.seconds < 1 and settled.quiet and 0 <= settled.busy <= 1


@linux
def test_the_wait_ends_at_the_longest_even_when_never_quiet():
    settled = machine_settle(busy_below=0, window=0.05, longest=0.3)
    assert 0.3 <= settled.seconds < 2 and not settled.quiet


def _suite(monkeypatch, names, scale):
    """Run `names` through the runner with stand-in modules ("absent": not landed, "crash":
    its run raises) → (the modules' JSON entries, the waits asked for)."""
    waits = []

    def settle(**kwargs):
        waits.append(kwargs)
        return Settled(seconds=2.0, busy=0.5, quiet=False)

    def load(name):
        if name == "absent":
            return None

        def run(scale):
            if name == "crash":
                raise RuntimeError("boom")
            return []

        return types.SimpleNamespace(OWN_DATABASE=True, run=run)

    monkeypatch.setattr(bench.common, "machine_settle", settle)
    monkeypatch.setattr(runner, "load", load)
    modules: dict = {}
    with ExitStack() as stack:
        clusters = runner._Clusters("machine", stack)
        runner._run_all(argparse.Namespace(only=names, scale=scale), clusters, [], modules)
    return modules, waits


def test_each_benchmark_after_one_that_ran_or_crashed_waits_at_full_scale(monkeypatch, capsys):
    modules, waits = _suite(monkeypatch, ["absent", "a", "absent", "crash", "b"], scale=1)
    assert len(waits) == 2  # before "crash" and "b": not before the first, nor a skipped one
    assert "settle_seconds" not in modules["a"]
    assert modules["crash"]["settle_seconds"] == modules["b"]["settle_seconds"] == 2.0
    assert "machine still busy after 2s (CPU 50% busy)" in capsys.readouterr().out


def test_smaller_scales_never_wait(monkeypatch):
    modules, waits = _suite(monkeypatch, ["a", "b", "c"], scale=0.01)
    assert waits == [] and all("settle_seconds" not in entry for entry in modules.values())
