"""bench/safety.py at a small scale: every ring found whole, beside the naive baseline."""

import pytest

from bench import safety as bench_safety

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_cluster_bench_runs_small():
    [result] = bench_safety.run(scale=0.01)
    assert result.name == "safety.clusters" and result.baseline > 0
    assert "(2 rings of 5)" in result.notes and result.met is None
