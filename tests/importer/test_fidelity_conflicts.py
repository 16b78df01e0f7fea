"""Re-importing rows whose deterministic id exists with other values (issue 16, case 7): refused
and listed, or replaced on request; the job counts inserted, identical, conflicting, replaced."""

from decimal import Decimal

import pytest

from importer.models import ImportJob
from players.models import Activity, PlayerMetrics
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db


def stored() -> list[tuple]:
    return sorted(Activity.objects.values_list("player__external_id", "type", "amount", "count"))


@pytest.fixture
def first_import_without_stakes(run_import):
    # What happened before the fix: "Stakes (EUR)" unmatched, 40 bets stored at 0.00.
    job = run_import(FILES / "stakes_eur.xlsx", kind="aggregates", mapping={"stakes": None})
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert stored() == [("p1", "bet", Decimal(0), 40), ("p1", "win", Decimal(150), 1)]
    return job


def test_a_corrected_reimport_is_refused_listing_the_conflicts(
    run_import, first_import_without_stakes
):
    job = run_import(FILES / "stakes_eur.xlsx", kind="aggregates")
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "file_rejected"
    assert [(e["row"], e["code"]) for e in job.errors] == [(2, "conflict")]
    assert "amount 0 -> 400" in job.errors[0]["message"]
    assert job.counts == {"identical": 1, "conflicting": 1, "replaced": 0}
    assert stored() == [("p1", "bet", Decimal(0), 40), ("p1", "win", Decimal(150), 1)]


def test_skip_mode_leaves_the_conflicting_rows_out(run_import, first_import_without_stakes):
    job = run_import(FILES / "stakes_eur.xlsx", kind="aggregates", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED
    assert [(e["row"], e["code"]) for e in job.errors] == [(2, "conflict")]
    assert stored() == [("p1", "bet", Decimal(0), 40), ("p1", "win", Decimal(150), 1)]


def test_replace_corrects_the_earlier_import(run_import, first_import_without_stakes):
    job = run_import(FILES / "stakes_eur.xlsx", kind="aggregates", on_conflict="replace")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert stored() == [("p1", "bet", Decimal(400), 40), ("p1", "win", Decimal(150), 1)]
    assert job.counts == {"identical": 1, "conflicting": 1, "replaced": 1, "inserted": 1}
    turnover = PlayerMetrics.objects.get(player__external_id="p1", window="lifetime").turnover
    assert turnover == Decimal(400)


def test_an_identical_reimport_counts_identical_rows(run_import):
    run_import(FILES / "de_decimal_comma.csv", kind="activity")
    again = run_import(FILES / "de_decimal_comma.csv", kind="activity")
    assert again.status == ImportJob.Status.SUCCEEDED
    assert again.counts == {"identical": 5, "conflicting": 0, "replaced": 0, "inserted": 0}
    assert Activity.objects.count() == 5


@pytest.mark.parametrize(
    "second,changed",
    [
        ("t1,p1,deposit,100.00,EUR,2026-01-03\n", "at"),  # another day
        ("t1,p2,deposit,100.00,EUR,2026-01-02\n", "player"),  # another player
        ("t1,p1,deposit,100.01,EUR,2026-01-02\n", "amount"),
    ],
)
def test_activity_ids_with_other_values_conflict(run_import, second, changed):
    header = "TxID,Player ID,Type,Amount,Currency,Date\n"
    run_import((header + "t1,p1,deposit,100.00,EUR,2026-01-02\n").encode(), kind="activity")
    job = run_import((header + second).encode(), kind="activity")
    assert job.status == ImportJob.Status.FAILED, changed
    assert job.counts["conflicting"] == 1
    replaced = run_import((header + second).encode(), kind="activity", on_conflict="replace")
    assert replaced.status == ImportJob.Status.SUCCEEDED
    assert Activity.objects.count() == 1


def test_round_stake_corrected(run_import):
    header = "Round,Player,Stake,Payout,Currency,Date\n"
    run_import((header + "r1,p1,10,0,EUR,2026-01-02\n").encode(), kind="rounds")
    job = run_import((header + "r1,p1,12,30,EUR,2026-01-02\n").encode(), kind="rounds")
    assert job.status == ImportJob.Status.FAILED and job.counts["conflicting"] == 1
    job = run_import(
        (header + "r1,p1,12,30,EUR,2026-01-02\n").encode(), kind="rounds", on_conflict="replace"
    )
    assert job.status == ImportJob.Status.SUCCEEDED
    assert sorted(Activity.objects.values_list("external_id", "amount")) == [
        ("r1:bet", Decimal(12)),
        ("r1:win", Decimal(30)),
    ]
