"""Reading, checking and staging give exactly what they gave before the speed-up of ADR 0030:
every staged value and every error (row, column, code, message, value, in order) and every
refusal, on generated files with faults of every kind and on the real files (skipped when
../shared is absent). The digests were recorded from the code before the change
(fidelity_cases.py says how to see a difference in full), and recorded again when dates
changed on purpose: a value without offset after one with an offset, and a date alone in a
zone other than UTC (tests/importer/test_fidelity_dates.py; the real files read the same)."""

import json

import pytest

from tests.importer import fidelity_cases

RECORDED = json.loads(fidelity_cases.DIGESTS.read_text())
CASES = fidelity_cases.cases(real=False)
REAL = ["real_bustabit", "real_bustabit_expr", "real_bwin_aggregates", "real_bwin_players",
        "real_bwin_players_auto"]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_generated_file_reads_as_recorded(case, tmp_path):
    assert fidelity_cases.digest(fidelity_cases.run(case, tmp_path)) == RECORDED[case.name]


@pytest.mark.realdata
@pytest.mark.parametrize("name", REAL)
def test_real_file_reads_as_recorded(name, tmp_path):
    found = {c.name: c for c in fidelity_cases.cases(real=True)}
    if name not in found:
        pytest.skip("the real data files live in ../shared, which is absent")
    record = fidelity_cases.run(found[name], tmp_path)
    assert fidelity_cases.digest(record) == RECORDED[name]


def test_every_case_has_a_recording():
    assert {c.name for c in CASES} | set(REAL) == set(RECORDED)
