"""The runner's wait for a quiet machine between full-scale benchmarks (bench.common)."""

import sys

import pytest

from bench.common import machine_settle

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")


def test_a_machine_quiet_enough_is_not_waited_for():
    waited, busy = machine_settle(busy_below=1.01, window=0.05, longest=5)
    assert waited < 1 and 0 <= busy <= 1


def test_the_wait_ends_at_the_longest_even_when_never_quiet():
    waited, busy = machine_settle(busy_below=0, window=0.05, longest=0.3)
    assert 0.3 <= waited < 2 and 0 <= busy <= 1
