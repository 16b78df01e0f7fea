"""Dates as operators write them: one day/month order per column, European forms, time zones.

Issue 16, case 3 and its kind: a column is read one way throughout, decided by the values that
prove it; one that reads two ways is refused naming both readings.
"""

from datetime import UTC, datetime

import pandas as pd
import pytest

from importer.dates import DateEvidence
from importer.models import ImportJob
from players.models import Activity
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db


def when() -> dict[str, datetime]:
    return dict(Activity.objects.values_list("external_id", "occurred_at"))


def imported_bets(run_import, settings, zone: str, dates: dict[str, str]) -> dict[str, datetime]:
    """Import one bet per `{external id: date cell}` with `zone` as the reporting time zone
    (the job must succeed) → the stored times by external id."""
    settings.PITBOSS = {**settings.PITBOSS, "REPORTING_TIME_ZONE": zone}
    rows = "".join(f"{tx},p1,bet,1,USD,{cell}\n" for tx, cell in dates.items())
    content = f"TxID,Player ID,Type,Amount,Currency,Date\n{rows}".encode()
    job = run_import(content, kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    return when()


@pytest.mark.parametrize("on_error", ["reject", "skip"])
def test_day_first_column_proven_by_one_value(run_import, on_error):
    # Case 3: 03/04/2026 was stored as 4 March (and the others refused, or imported wrong).
    job = run_import(FILES / "uk_dates.csv", kind="activity", on_error=on_error)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert when() == {
        "t1": datetime(2026, 4, 3, tzinfo=UTC),
        "t2": datetime(2026, 4, 13, tzinfo=UTC),
        "t3": datetime(2026, 4, 28, tzinfo=UTC),
    }


def test_german_dates_with_times_in_the_declared_time_zone(run_import):
    # Case 3: "24.12.2025 10:00" was refused. Headers in German, amounts with decimal comma.
    job = run_import(FILES / "de_dates_headers.csv", kind="activity", time_zone="Europe/Berlin")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert when() == {
        "t1": datetime(2025, 12, 24, 9, 0, tzinfo=UTC),  # 10:00 in Berlin (UTC+1)
        "t2": datetime(2025, 12, 24, 9, 5, 30, tzinfo=UTC),
        "t3": datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
    }
    assert dict(Activity.objects.values_list("external_id", "amount"))["t1"] == 1500


def test_naive_times_default_to_the_reporting_time_zone(run_import, settings):
    dates = {"t1": "2026-07-01 12:00", "t2": "2026-07-01T12:00:00Z"}
    assert imported_bets(run_import, settings, "America/New_York", dates) == {
        "t1": datetime(2026, 7, 1, 16, 0, tzinfo=UTC),  # EDT is UTC-4
        "t2": datetime(2026, 7, 1, 12, 0, tzinfo=UTC),  # an explicit offset wins
    }


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_an_offset_is_its_own_values_alone(run_import, settings, zone):
    """A column mixing values with and without offsets: each value without one is wall-clock
    time in the zone, whichever values come before it (pandas alone read `07:31:05` after
    `+01:00` as 06:31:05 UTC), in the shapes read from their bytes and in the others."""
    dates = {
        "t1": "2026-01-01T10:00:00+01:00",
        "t2": "2026-08-04 07:31:05",
        "t3": "2026-08-04T07:31",
        "t4": "2026-08-04T07:31:05-0530",
        "t5": "2026-08-04T07:31:05.5",
        "t6": "2026-08-04T07:31:05Z",
    }
    stored = imported_bets(run_import, settings, zone, dates)
    shift = 4 if zone == "America/New_York" else 0  # EDT is UTC-4
    assert stored == {
        "t1": datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
        "t2": datetime(2026, 8, 4, 7 + shift, 31, 5, tzinfo=UTC),
        "t3": datetime(2026, 8, 4, 7 + shift, 31, tzinfo=UTC),
        "t4": datetime(2026, 8, 4, 13, 1, 5, tzinfo=UTC),
        "t5": datetime(2026, 8, 4, 7 + shift, 31, 5, 500000, tzinfo=UTC),
        "t6": datetime(2026, 8, 4, 7, 31, 5, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    "zone, midnight",
    [
        ("America/New_York", datetime(2026, 1, 5, 5, 0, tzinfo=UTC)),  # EST is UTC-5
        ("Europe/Berlin", datetime(2026, 1, 4, 23, 0, tzinfo=UTC)),
        ("UTC", datetime(2026, 1, 5, 0, 0, tzinfo=UTC)),
    ],
)
def test_a_date_alone_is_its_midnight_in_the_zone(run_import, settings, zone, midnight):
    """`2026-01-05` ends in what looks like an offset (`-05`) and is none: a daily export's
    row is that day in the reporting time zone, not 19:00 the day before in New York."""
    dates = {"d1": "2026-01-05", "d2": "2026/01/05", "d3": "2026-01-05T00:00:00Z"}
    stored = imported_bets(run_import, settings, zone, dates)
    assert stored["d1"] == stored["d2"] == midnight
    assert stored["d3"] == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # Z is UTC's midnight


def test_month_first_with_am_pm(run_import):
    job = run_import(FILES / "us_dates.csv", kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert when() == {
        "t1": datetime(2026, 4, 13, 22, 0, tzinfo=UTC),
        "t2": datetime(2026, 4, 3, 9, 15, tzinfo=UTC),
        "t3": datetime(2026, 12, 31, tzinfo=UTC),
    }


def test_spanish_headers_and_dashed_day_first_dates(run_import):
    job = run_import(FILES / "es_headers_dash_dates.csv", kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    stored = sorted(Activity.objects.values_list("type", "amount", "occurred_at"))
    assert stored == [
        ("bet", 7.25, datetime(2025, 12, 31, tzinfo=UTC)),
        ("deposit", 1000.5, datetime(2025, 12, 24, tzinfo=UTC)),
    ]


@pytest.mark.parametrize("on_error", ["reject", "skip"])
def test_an_ambiguous_column_is_refused_naming_both_readings(run_import, on_error):
    job = run_import(FILES / "ambiguous_dates.csv", kind="activity", on_error=on_error)
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "ambiguous_date"
    assert "3 April 2026 (day first)" in job.message
    assert "4 March 2026 (month first)" in job.message
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "order,expected", [("DMY", datetime(2026, 4, 3, tzinfo=UTC)), ("MDY", datetime(2026, 3, 4, tzinfo=UTC))]
)  # fmt: skip
def test_a_declared_order_settles_the_column(run_import, order, expected):
    job = run_import(FILES / "ambiguous_dates.csv", kind="activity", date_order=order)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert when()["t1"] == expected


def test_the_operator_default_order(run_import, settings):
    settings.PITBOSS = {**settings.PITBOSS, "DATE_ORDER": "DMY"}
    job = run_import(FILES / "ambiguous_dates.csv", kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert when()["t2"] == datetime(2026, 6, 5, tzinfo=UTC)


def test_a_value_against_the_columns_order_is_a_row_error(run_import):
    content = (
        b"TxID,Player ID,Type,Amount,Currency,Date\n"
        b"t1,p1,bet,1,EUR,13/04/2026\n"
        b"t2,p1,bet,1,EUR,20/04/2026\n"
        b"t3,p1,bet,1,EUR,04/13/2026\n"
    )
    job = run_import(content, kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED
    assert [(e["row"], e["code"], e["message"]) for e in job.errors] == [
        (4, "invalid_date", "occurred_at is not a date we can read (read day first): 04/13/2026")
    ]


def test_the_order_is_decided_from_the_whole_file(run_import, monkeypatch):
    # The first chunk alone reads two ways; a later one proves day first.
    monkeypatch.setattr("importer.services.CHUNK_ROWS", 2)
    content = (
        b"TxID,Player ID,Type,Amount,Currency,Date\n"
        b"t1,p1,bet,1,EUR,03/04/2026\n"
        b"t2,p1,bet,1,EUR,05/04/2026\n"
        b"t3,p1,bet,1,EUR,30/04/2026\n"
    )
    job = run_import(content, kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert when()["t1"] == datetime(2026, 4, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    "values,order,ambiguous",
    [
        (["03/04/2026", "13/04/2026"], "DMY", "03/04/2026"),
        (["4/13/2026 10:00 PM"], "MDY", ""),
        (["03.04.2026"], "", ""),  # dots: always day first, nothing to decide
        (["05/05/2026"], "", ""),  # reads the same both ways
        (["03-04-2026"], "", "03-04-2026"),
        (["2026-04-03"], "", ""),
    ],
)
def test_evidence_of_a_column(values, order, ambiguous):
    evidence = DateEvidence()
    evidence.observe(pd.Series(values))
    assert (evidence.order, evidence.ambiguous) == (order, ambiguous)
