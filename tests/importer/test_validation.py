"""Every kind of bad row is reported with its row, column and code; both error modes."""

import csv
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from importer.models import ImportJob
from players.models import Activity, Currency, ExchangeRate, Player

pytestmark = pytest.mark.django_db

HEADER = "TxID,Player ID,Type,Amount,Currency,Date,Game Category,Count\n"
GOOD = "t0,p1,deposit,100.00,EUR,2026-01-02T10:00:00Z,,\n"


@pytest.mark.parametrize(
    "row,column,code",
    [
        ("t1,,bet,10,EUR,2026-01-02,,", "Player ID", "missing_value"),
        ("t1,p1,bet,ten,EUR,2026-01-02,,", "Amount", "invalid_number"),
        ("t1,p1,bet,1e999999999,EUR,2026-01-02,,", "Amount", "invalid_number"),  # not 1 GB
        ("t1,p1,bet,1.2.3,EUR,2026-01-02,,", "Amount", "invalid_number"),
        ("t1,p1,bet,++5,EUR,2026-01-02,,", "Amount", "invalid_number"),
        ("t1,p1,bet,-5,EUR,2026-01-02,,", "Amount", "invalid_amount"),
        ("t1,p1,bet,1.234,EUR,2026-01-02,,", "Amount", "invalid_amount"),  # EUR has 2 places
        ("t1,p1,bet,100000001,EUR,2026-01-02,,", "Amount", "invalid_amount"),  # ceiling
        ("t1,p1,bet,10,EUR,2026-13-45,,", "Date", "invalid_date"),
        ("t1,p1,bet,10,EUR,NULL,,", "Date", "missing_value"),
        ("t1,p1,spin,10,EUR,2026-01-02,,", "Type", "invalid_choice"),
        ("t1,p1,bet,10,EUR,2026-01-02,bingo,", "Game Category", "invalid_choice"),
        ("t1,p1,bet,10,XYZ,2026-01-02,,", "Currency", "unknown_currency"),
        ("t1,p1,bet,10,EUR,2026-01-02,,2.5", "Count", "invalid_count"),
        ("t1," + "p" * 129 + ",bet,10,EUR,2026-01-02,,", "Player ID", "value_too_long"),
    ],
)
def test_each_error_kind_is_reported(run_import, row, column, code):
    job = run_import((HEADER + GOOD + row + "\n").encode(), kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert job.rows_rejected == 1
    assert {"row": 3, "column": column, "code": code} == {
        k: job.errors[0][k] for k in ("row", "column", "code")
    }
    assert Activity.objects.count() == 1  # the good row only
    with job.error_report.open("r") as handle:
        report = list(csv.DictReader(handle))
    assert report[0]["row"] == "3" and report[0]["code"] == code


def test_player_field_errors(run_import):
    content = (
        b"UserID,Email,Country,Status,RegDate\n"
        b"u1,not-an-address,DE,active,2024-01-01\n"
        b"u2,a@b.de,Atlantis,active,2024-01-01\n"
        b"u3,c@d.de,DE,frozen,2024-01-01\n"
        b"u4,e@f.de,FR,closed,2024-01-01\n"
    )
    job = run_import(content, kind="players", on_error="skip")
    codes = {(e["row"], e["code"]) for e in job.errors}
    assert codes == {(2, "invalid_email"), (3, "invalid_country"), (4, "invalid_choice")}
    assert list(Player.objects.values_list("external_id", "status")) == [("u4", "closed")]


def test_reject_mode_writes_nothing(run_import):
    bad = "t1,p2,bet,-1,EUR,2026-01-02,,\n"
    job = run_import((HEADER + GOOD + bad).encode(), kind="activity", on_error="reject")
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "file_rejected"
    assert job.errors[0]["row"] == 3
    assert Activity.objects.count() == 0 and Player.objects.count() == 0


def test_skip_mode_keeps_the_good_rows(run_import):
    rows = "".join(f"t{i},p{i % 3},bet,{i}.50,EUR,2026-01-0{1 + i % 5},,\n" for i in range(1, 9))
    bad = "x1,p1,bet,-3,EUR,2026-01-02,,\nx2,p1,bet,3,EUR,yesterday,,\n"
    job = run_import((HEADER + rows + bad).encode(), kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.rows_done == 10 and job.rows_rejected == 2
    assert Activity.objects.count() == 8
    assert Activity.objects.get(external_id="t3").amount == Decimal("3.50")


def test_missing_values_and_date_formats(run_import):
    content = (
        b"UserID,Stakes,Winnings,Bets,PlayDate\n"
        b"u1,10.5,NA,3,20050224\n"
        b"u1,NULL,4,,2/27/2005\n"
        b"u2,,,,2005-03-01\n"
    )
    mapping = {"currency": {"value": "EUR"}}
    job = run_import(content, kind="aggregates", mapping=mapping)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert job.mapping["auto_matched"] == ["player_id", "period_end", "stakes", "wins", "bet_count"]
    bets = Activity.objects.filter(type="bet")
    assert [(a.amount, a.count, a.occurred_at.date().isoformat()) for a in bets] == [
        (Decimal("10.5"), 3, "2005-02-24")
    ]
    win = Activity.objects.get(type="win")
    assert (win.amount, win.occurred_at.date().isoformat()) == (Decimal(4), "2005-02-27")
    assert not Player.objects.filter(external_id="u2").exists()  # nothing to store


def test_missing_required_field_and_column(run_import):
    from config.errors import DomainError

    with pytest.raises(DomainError) as missing_field:
        run_import(b"who,what\n1,2\n", kind="activity")
    assert missing_field.value.code == "missing_field"
    with pytest.raises(DomainError) as missing_column:
        run_import(HEADER.encode() + GOOD.encode(), kind="activity", mapping={"amount": "Amt"})
    assert missing_column.value.code == "missing_column"
    assert ImportJob.objects.count() == 0


def test_amounts_convert_into_the_players_currency(run_import):
    usd = Currency.objects.get_or_create(code="USD", defaults={"minor_units": 2})[0]
    eur = Currency.objects.get(code="EUR")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ExchangeRate.objects.create(currency=usd, valid_from=start, rate=Decimal("0.5"))
    ExchangeRate.objects.create(currency=eur, valid_from=start, rate=Decimal("1"))
    Player.objects.create(external_id="p1", currency=eur, registered_at=start)
    content = (HEADER + "t1,p1,bet,10.00,USD,2026-01-02,,\n").encode()
    job = run_import(content, kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    activity = Activity.objects.get()
    assert (activity.amount, activity.currency_id, activity.player_amount) == (
        Decimal("10"),
        "USD",
        Decimal("5"),
    )


def test_no_exchange_rate_is_a_row_error(run_import):
    zzz = Currency.objects.create(code="ZZZ", minor_units=2)  # no rate at all
    Player.objects.create(
        external_id="p1", currency=zzz, registered_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    content = (HEADER + GOOD.replace("p1", "p9") + "t1,p1,bet,10.00,EUR,2026-01-02,,\n").encode()
    rejected = run_import(content, kind="activity")
    assert rejected.status == ImportJob.Status.FAILED and rejected.error_code == "file_rejected"
    assert rejected.errors[0]["code"] == "no_exchange_rate"
    assert Activity.objects.count() == 0
    skipped = run_import(content, kind="activity", on_error="skip")
    assert skipped.status == ImportJob.Status.SUCCEEDED
    assert list(Activity.objects.values_list("external_id", flat=True)) == ["t0"]


@pytest.mark.parametrize(
    "text,units,digits",
    [
        ("12.50", 1_250_000_000, 1),
        ("+5.", 500_000_000, 0),
        ("1,000.50", 100_050_000_000, 1),
        ("1e2", 10_000_000_000, 0),
        ("0e-50", 0, 0),
        ("0.00000001", 1, 8),
        ("9999999999.99999999", 999_999_999_999_999_999, 8),
    ],
)
def test_amount_text_becomes_exact_units(text, units, digits):
    from importer.validation import _money

    series = pd.Series([text, "7"], index=[2, 3])
    parsed, bad, used = _money(series, pd.Series([False, False], index=[2, 3]))
    assert (int(parsed[2]), bool(bad[2]), int(used[2])) == (units, False, digits)
    assert int(parsed[3]) == 700_000_000


@pytest.mark.parametrize(
    "text", ["\u0661\u0662", "\u06f1\u06f2", "\u0967\u0968", "\uff11\uff12", "1\u0662"]
)
def test_amounts_in_digits_other_than_ascii_are_bad(text):
    # Python's Decimal reads "١٢" (Arabic-Indic), "۱۲", "१२" and fullwidth "１２" as 12: money
    # is ASCII digits only (issue 11), in files as in the API.
    from importer.validation import _money

    series = pd.Series([text, "7"], index=[2, 3])
    _parsed, bad, _used = _money(series, pd.Series([False, False], index=[2, 3]))
    assert bool(bad[2]) and not bool(bad[3])
