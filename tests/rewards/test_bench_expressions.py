"""The expressions benchmark runs end to end (smallest scale) and leaves no rows behind."""

import pytest

from players.models import Player


@pytest.mark.postgres
@pytest.mark.django_db
def test_bench_runs_and_rolls_back(monkeypatch):
    from bench import expressions

    monkeypatch.setattr(expressions, "SCALAR_SAMPLE", 20)
    results = expressions.run(scale=0.01)
    assert [r.name for r in results] == [
        "expressions.condition6.sql",
        "expressions.condition6.vectorised",
        "expressions.formula.sql",
        "expressions.formula.vectorised",
    ]
    assert all(r.measured > 0 and r.baseline > 0 for r in results)
    assert not Player.objects.filter(external_id__startswith=expressions.PREFIX).exists()
