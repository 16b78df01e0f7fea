"""Layouts of real exports: empty rows, Excel's sep= hint, title blocks, sheets (issue 16,
cases 4-6)."""

from decimal import Decimal

import pytest

from importer import services
from importer.models import ImportJob
from players.models import Activity
from tests.importer.conftest import FILES, stored_amounts

pytestmark = pytest.mark.django_db


def test_rows_of_empty_cells_are_skipped(run_import):
    # Case 4: ",,,,," lines refused the whole file with missing_value errors.
    job = run_import(FILES / "trailing_empty_rows.csv", kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {"t1": Decimal(100), "t2": Decimal(10)}
    assert (job.rows_done, job.rows_rejected) == (2, 0)


def test_empty_rows_between_rows_keep_the_row_numbers(run_import):
    content = (
        b"TxID,Player ID,Type,Amount,Currency,Date\n"
        b"t1,p1,bet,1,EUR,2026-01-02\n"
        b"\n"
        b" ,\t, ,,,\n"
        b"t2,p1,bet,oops,EUR,2026-01-02\n"
    )
    job = run_import(content, kind="activity", on_error="skip")
    assert [(e["row"], e["code"]) for e in job.errors] == [(5, "invalid_number")]


def test_excel_sep_hint(run_import):
    # Case 5: the header was read as "sep=".
    job = run_import(FILES / "sep_hint.csv", kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {"t1": Decimal(100), "t2": Decimal("10.5")}


@pytest.mark.parametrize("delimiter", ["|", "\t", ","])
def test_sep_hint_with_other_delimiters(run_import, delimiter):
    rows = [["TxID", "Player ID", "Type", "Amount", "Currency", "Date"],
            ["t1", "p1", "bet", "2.5", "EUR", "2026-01-02"]]  # fmt: skip
    content = f"sep={delimiter}\n" + "\n".join(delimiter.join(r) for r in rows) + "\n"
    job = run_import(content.encode(), kind="activity")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert stored_amounts() == {"t1": Decimal("2.5")}


@pytest.mark.parametrize("name", ["title_block.xlsx", "title_block.csv"])
def test_a_title_block_is_refused_with_a_suggestion(run_import, name):
    # Case 6: refused with "no column for required field(s)" and no way to say where it is.
    kind = "aggregates" if name.endswith("xlsx") else "activity"
    with pytest.raises(Exception) as caught:
        run_import(FILES / name, kind=kind)
    assert caught.value.code == "missing_field"
    assert "set header_row=3" in caught.value.message
    assert caught.value.details["suggested_header_row"] == 3


def test_header_row_reads_below_a_title_block_xlsx(run_import):
    job = run_import(FILES / "title_block.xlsx", kind="aggregates", header_row=3)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    stored = sorted(Activity.objects.values_list("player__external_id", "type", "amount", "count"))
    assert stored == [
        ("p1", "bet", Decimal("250.5"), 40),
        ("p1", "win", Decimal(100), 1),
        ("p2", "bet", Decimal(1000), 3),
        ("p2", "win", Decimal("12.5"), 1),
    ]
    assert job.rows_done == 2  # the row of blank cells is skipped


def test_header_row_reads_below_a_title_block_csv(run_import):
    job = run_import(FILES / "title_block.csv", kind="activity", header_row=3)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored_amounts() == {"t1": Decimal(100), "t2": Decimal(10)}


def test_preview_suggests_the_header_row(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes((FILES / "title_block.xlsx").read_bytes())
    with pytest.raises(Exception) as caught:
        services.import_preview(path=str(path), kind="aggregates")
    assert caught.value.details["suggested_header_row"] == 3
    preview = services.import_preview(
        path=str(path), kind="aggregates", mapping={"player_id": "Weekly stakes report — week 47",
        "period_end": {"value": "2026-01-01"}, "currency": {"value": "EUR"}},
    )  # fmt: skip
    assert preview["warnings"][0]["code"] == "title_block"
    assert preview["warnings"][0]["row"] == 3


@pytest.mark.parametrize("sheet", ["Data", "2"])
def test_sheet_by_name_or_position(run_import, sheet):
    job = run_import(FILES / "second_sheet.xlsx", kind="activity", sheet=sheet)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert job.sheet == "Data"
    assert stored_amounts() == {"t1": Decimal(100)}


def test_unknown_sheet_position(run_import):
    with pytest.raises(Exception) as caught:
        run_import(FILES / "second_sheet.xlsx", kind="activity", sheet="3")
    assert caught.value.code == "unknown_sheet"
