"""Numbers as operators write them: per-column separators, currency signs, Excel's 15 digits.

Each fixture in tests/importer/files is imported and the stored amounts are checked; a column
that reads two ways is refused, naming both readings (issue 16, cases 1, 2, 8).
"""

from decimal import Decimal

import pandas as pd
import pytest

from importer import services
from importer.models import ImportJob
from importer.numbers import NumberEvidence, number_bodies
from players.models import Activity
from tests.importer.conftest import FILES, stored_amounts

pytestmark = pytest.mark.django_db


def test_decimal_comma_with_thousands_dots(run_import):
    # Case 1: stored 1.00, 2.50, 25.00 with no error before; 100,00 was "not a number".
    job = run_import(FILES / "de_decimal_comma.csv", kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {
        "t1": Decimal("1000"),
        "t2": Decimal("2500"),
        "t3": Decimal("25000"),
        "t4": Decimal("100"),
        "t5": Decimal("1234.56"),  # USDT allows 6 decimals: no longer 1.23456
    }


@pytest.mark.parametrize(
    "name,currencies,expected",
    [
        ("en_thousands_comma.csv", None, {"t1": "1000", "t2": "2500.5", "t3": "25000", "t4": "12.5"}),
        ("fr_space_thousands.csv", None, {"t1": "1000", "t2": "12.5", "t3": "2500.5", "t4": "0.75"}),
        ("ch_apostrophe.csv", {"CHF": {"minor_units": 2}},
         {"t1": "1000", "t2": "12.5", "t3": "1250000.75"}),
    ],
)  # fmt: skip
def test_other_separators_and_currency_signs(run_import, name, currencies, expected):
    mapping = {"currencies": currencies} if currencies else None
    job = run_import(FILES / name, kind="activity", mapping=mapping)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {k: Decimal(v) for k, v in expected.items()}


def test_a_column_that_reads_two_ways_is_refused_naming_both(run_import):
    job = run_import(FILES / "ambiguous_thousands.csv", kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "ambiguous_number"
    assert "1000" in job.message and "1.000" in job.message and "'Amount'" in job.message
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "options,expected",
    [
        ({"decimal_separator": ","}, ["1000", "2500", "300"]),
        ({"thousands_separator": "."}, ["1000", "2500", "300"]),
        ({"decimal_separator": "."}, ["1", "2.5", "300"]),
    ],
)
def test_declared_separators_settle_the_reading(run_import, options, expected):
    job = run_import(FILES / "ambiguous_thousands.csv", kind="activity", **options)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert [stored_amounts()[k] for k in ("t1", "t2", "t3")] == [Decimal(v) for v in expected]


def test_declared_separators_through_a_template(run_import):
    services.import_template_save(
        name="de-export", kind="activity", mapping={}, decimal_separator=","
    )
    job = run_import(FILES / "ambiguous_thousands.csv", kind="activity", template="de-export")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert stored_amounts()["t1"] == Decimal("1000")


def test_xlsx_numbers_are_read_as_excel_shows_them(run_import):
    # Case 2: =10.1*3 caches 30.299999999999997: every row was "amount is not a number".
    job = run_import(FILES / "formulas.xlsx", kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {
        "t1": Decimal("30.30"),
        "t2": Decimal("0.30"),
        "t4": Decimal("1234.56"),  # typed as text in a German workbook; the cells stay 30.3
        "t5": Decimal("1"),
    }
    assert [(e["row"], e["code"], e["message"]) for e in job.errors] == [
        (4, "invalid_amount", "amount has more decimals than EUR allows: 1.005")
    ]


def test_messages_say_what_is_wrong_with_a_number(run_import):
    content = (
        b"TxID,Player ID,Type,Amount,Currency,Date\n"
        b"t1,p1,bet,10.50,EUR,2026-01-02\n"
        b"t2,p1,bet,1.005,EUR,2026-01-02\n"
        b"t3,p1,bet,15%,EUR,2026-01-02\n"
        b"t4,p1,bet,ten,EUR,2026-01-02\n"
        b't5,p1,bet,"1.000,50",EUR,2026-01-02\n'
    )
    job = run_import(content, kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED
    assert [(e["row"], e["code"], e["message"]) for e in job.errors] == [
        (3, "invalid_amount", "amount has more decimals than EUR allows: 1.005"),
        (4, "invalid_number", "amount is a percentage, not an amount: 15%"),
        (5, "invalid_number", "amount is not a number: ten"),
        (
            6,
            "invalid_number",
            "amount does not fit the column's number format (decimal point, e.g. 1,234.56): "
            "1.000,50",
        ),
    ]
    assert stored_amounts() == {"t1": Decimal("10.5")}


def test_counts_use_the_column_separators(run_import):
    content = (
        b"Player ID;Date;Stakes;Bets;Currency\n"
        b"p1;2026-01-05;1.500,00;1.200;EUR\n"
        b"p2;2026-01-05;12,50;3;EUR\n"
    )
    job = run_import(content, kind="aggregates")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    bets = dict(Activity.objects.filter(type="bet").values_list("player__external_id", "count"))
    # Bets alone (1.200, 3) reads two ways; the file's other number column proves a decimal
    # comma, and a file comes from one system.
    assert bets == {"p1": 1200, "p2": 3}


def test_preview_shows_amounts_as_stored(tmp_path):
    # Case 8: the preview showed a stake of 250.5 as 25050000000.
    path = tmp_path / "stakes.csv"
    path.write_bytes((FILES / "stakes_eur_suffix.csv").read_bytes())
    preview = services.import_preview(path=str(path), kind="aggregates")
    values = preview["values"]
    assert list(values["stakes"]) == ["250.5", "1000"]
    assert list(values["wins"]) == ["100", "12.5"]


@pytest.mark.parametrize(
    "values,decimal,ambiguous",
    [
        (["1.000,00", "12,50", "25.000"], ",", "25.000"),  # settled by the others
        (["1,000.00", "25,000"], ".", "25,000"),
        (["1.000.000", "5"], ",", ""),
        (["1,000,000"], ".", ""),
        (["0,125", "1.000"], ",", "1.000"),
        (["1.000", "2.000"], "", "1.000"),
        (["1 000,5"], ",", ""),
        (["100", "250"], "", ""),
    ],
)
def test_evidence_of_a_column(values, decimal, ambiguous):
    evidence = NumberEvidence()
    evidence.observe(number_bodies(pd.Series(values))[0])
    assert (evidence.decimal, evidence.ambiguous, evidence.settled) == (
        decimal,
        ambiguous,
        bool(decimal) or not ambiguous,
    )


def test_computed_amounts_read_their_columns_number_format(run_import):
    """An expression's columns are numbers the way the file writes them: `1.000,00` and
    `-250,50` in a decimal-comma file are 1000 and -250.5, not text and not 1.0."""
    content = (
        b"TxID;Player;Type;Stake;Bonus;Currency;Date\n"
        b"t1;p1;bet;1.000,00;-250,50;EUR;2026-01-02\n"
        b"t2;p1;bet;2.500,00;0,00;EUR;2026-01-02\n"
        b"t3;p1;bet;25.000;1.000;EUR;2026-01-03\n"
        b"t4;p2;bet;12,50;;EUR;2026-01-03\n"
    )
    mapping = {
        "external_id": "TxID",
        "player_id": "Player",
        "type": "Type",
        "currency": "Currency",
        "occurred_at": "Date",
        "amount": {"expr": "Stake + Bonus if Bonus is not None else Stake"},
    }
    job = run_import(content, kind="activity", mapping=mapping)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {
        "t1": Decimal("749.5"),
        "t2": Decimal("2500"),
        "t3": Decimal("26000"),  # Bonus's 1.000 is settled by -250,50: one thousand
        "t4": Decimal("12.5"),
    }


@pytest.mark.parametrize(
    "options,expected",
    [({}, None), ({"decimal_separator": ","}, "2000"), ({"decimal_separator": "."}, "2")],
)
def test_a_computed_amount_over_a_column_that_reads_two_ways(run_import, options, expected):
    content = b"TxID,Player,Type,Stake,Currency,Date\nt1,p1,bet,1.000,EUR,2026-01-02\n"
    mapping = {
        "external_id": "TxID",
        "player_id": "Player",
        "type": "Type",
        "currency": "Currency",
        "occurred_at": "Date",
        "amount": {"expr": "Stake * 2"},
    }
    job = run_import(content, kind="activity", mapping=mapping, **options)
    if expected is None:
        assert (job.status, job.error_code) == (ImportJob.Status.FAILED, "ambiguous_number")
        assert "'Stake'" in job.message
        assert not Activity.objects.exists()
    else:
        assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
        assert stored_amounts() == {"t1": Decimal(expected)}
