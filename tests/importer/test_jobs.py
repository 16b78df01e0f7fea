"""Idempotency, killed jobs, encodings, delimiters, spreadsheets and garbage uploads."""

import io
import os
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest

from config.errors import DomainError
from importer import loading, services
from importer.models import ImportJob
from players.models import Activity, Player

pytestmark = pytest.mark.django_db

HEADER = "TxID,UserID,Type,Amount,Currency,PlayDate\n"


def _rows(start: int, stop: int) -> str:
    return "".join(
        f"t{i},p{i % 7},{'bet' if i % 2 else 'win'},{i}.25,EUR,2026-02-{1 + i % 28:02d}\n"
        for i in range(start, stop)
    )


def test_reimport_and_overlap_create_no_duplicates(run_import):
    first = run_import((HEADER + _rows(0, 50)).encode(), kind="activity")
    assert first.activities_created == 50
    again = run_import((HEADER + _rows(0, 50)).encode(), kind="activity")
    assert again.status == ImportJob.Status.SUCCEEDED and again.activities_created == 0
    overlap = run_import((HEADER + _rows(40, 60)).encode(), kind="activity")
    assert overlap.activities_created == 10
    assert Activity.objects.count() == 60 and Player.objects.count() == 7


def test_rows_without_ids_get_deterministic_ids(run_import):
    content = b"UserID,Stake,Payout,Currency,PlayDate\nu1,5,12.5,EUR,2026-01-01T10:00:00Z\n"
    content += b"u1,5,0,EUR,2026-01-01T10:05:00Z\n"
    for _ in range(2):
        job = run_import(content, kind="rounds")
        assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert sorted(Activity.objects.values_list("type", flat=True)) == ["bet", "bet", "win"]
    win = Activity.objects.get(type="win")
    assert win.external_id.endswith(":win") and win.reference_id == win.round_id + ":bet"


def test_job_killed_mid_load_then_rerun(run_import, monkeypatch):
    real_load = loading.load_activity

    def load_then_die(**kwargs):
        real_load(**kwargs)  # players and activity inserted … then the worker dies
        raise SystemError("worker killed")

    monkeypatch.setattr(loading, "load_activity", load_then_die)
    job = run_import((HEADER + _rows(0, 30)).encode(), kind="activity")
    assert job.status == ImportJob.Status.FAILED and job.error_code == "internal_error"
    assert Activity.objects.count() == 0 and Player.objects.count() == 0  # rolled back
    assert not loading.stage_exists(job_id=job.pk)

    monkeypatch.setattr(loading, "load_activity", real_load)
    services.import_job_retry(job=job)
    rerun = services.import_job_run(job_id=job.pk)
    assert rerun.status == ImportJob.Status.SUCCEEDED, (rerun.error_code, rerun.message)
    assert rerun.activities_created == 30 and Activity.objects.count() == 30


def test_job_killed_mid_validate_then_rerun(run_import, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_ROWS", 10)
    real_write = loading.stage_write
    calls = {"n": 0}

    def write_then_die(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemError("worker killed")
        real_write(**kwargs)

    monkeypatch.setattr(loading, "stage_write", write_then_die)
    job = run_import((HEADER + _rows(0, 45)).encode(), kind="activity")
    assert job.status == ImportJob.Status.FAILED
    assert job.rows_done == 20  # progress was recorded chunk by chunk
    assert Activity.objects.count() == 0
    services.import_job_retry(job=job)
    rerun = services.import_job_run(job_id=job.pk)
    assert rerun.status == ImportJob.Status.SUCCEEDED
    assert Activity.objects.count() == 45


def test_latin1_file_keeps_its_names(run_import):
    content = (
        "UserID;Username;Country;RegDate\n"
        "1;José Müller;DE;2024-01-01\n"
        "2;Françoise Bérénice;FR;2024-01-02\n"
        "3;Søren Ærø;DK;2024-01-03\n"
    ).encode("latin-1")
    job = run_import(content, kind="players", mapping={"currency": {"value": "EUR"}})
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert job.delimiter == ";" and job.encoding in ("cp1252", "latin-1")
    assert sorted(Player.objects.values_list("username", flat=True)) == [
        "Françoise Bérénice",
        "José Müller",
        "Søren Ærø",
    ]


def test_operator_chosen_encoding_that_does_not_fit_is_an_error(run_import):
    content = "UserID,Username\n1,Zoë\n".encode("latin-1")
    with pytest.raises(DomainError) as error:
        run_import(content, kind="players", encoding="utf-8")
    assert error.value.code == "encoding_error"
    assert Player.objects.count() == 0


def test_utf8_with_bom_and_tabs(run_import):
    content = "\ufeffUserID\tUsername\tCurrency\n7\t月光\tEUR\n".encode()
    job = run_import(content, kind="players")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert Player.objects.get().username == "月光"


def _xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Activity")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_typed_cells(run_import):
    content = _xlsx(
        [
            ["Transaction", "Player ID", "Type", "Amount", "Currency", "Date"],
            ["a1", 1001, "deposit", 50, "EUR", datetime(2026, 3, 1, 12, 30)],
            ["a2", 1001, "bet", 2.5, "EUR", datetime(2026, 3, 1, 12, 31)],
            [],
            ["a3", 1002, "bet", "=1+1", "EUR", "2026-03-02"],
        ]
    )
    job = run_import(content, kind="activity", name="activity.xlsx", on_error="skip")
    assert job.file_format == "xlsx" and job.sheet == "Activity"
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    # A formula cell is read by its cached value; openpyxl stores none, so it is missing.
    assert job.errors == [
        {"row": 5, "column": "Amount", "code": "missing_value", "message": "amount is required."}
    ]
    amounts = dict(Activity.objects.values_list("external_id", "amount"))
    assert amounts == {"a1": Decimal("50"), "a2": Decimal("2.5")}
    assert Player.objects.get().external_id == "1001"  # a number cell read as "1001", not 1001.0


def test_a_workbook_is_parsed_once_by_the_stages(run_import, monkeypatch):
    import python_calamine

    from importer import reading

    real = python_calamine.CalamineWorkbook
    opened = []

    class Counting:
        @staticmethod
        def from_path(path):
            opened.append(path)
            return real.from_path(path)

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Counting)
    rows = [["Transaction", "Player ID", "Type", "Amount", "Currency", "Date"]]
    rows += [[f"a{i}", 7, "bet", 1.5, "EUR", "2026-03-02"] for i in range(30)]
    job = run_import(_xlsx(rows), kind="activity", name="activity.xlsx")
    assert job.status == ImportJob.Status.SUCCEEDED and job.activities_created == 30
    # the upload check, parse, validate and read stages of one process share one parse
    assert len(opened) == 1
    assert reading._workbook.cache_info().currsize == 0  # nothing kept afterwards


def test_unknown_sheet(run_import):
    content = _xlsx([["Player ID"], ["1"]])
    with pytest.raises(DomainError) as error:
        run_import(content, kind="players", name="p.xlsx", sheet="Nope")
    assert error.value.code == "unknown_sheet"


def test_garbage_bytes_are_refused_and_nothing_is_written(run_import, settings):
    garbage = os.urandom(10 * 1024 * 1024)
    with pytest.raises(DomainError) as error:
        run_import(garbage, kind="activity", name="data.csv")
    assert error.value.code == "unreadable_file"
    broken_zip = b"PK\x03\x04" + garbage[:100000]
    with pytest.raises(DomainError) as error:
        run_import(broken_zip, kind="activity", name="data.xlsx")
    assert error.value.code == "unreadable_file"
    assert ImportJob.objects.count() == 0 and Activity.objects.count() == 0
    uploads = settings.MEDIA_ROOT / "imports"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_empty_and_header_only_files(run_import):
    with pytest.raises(DomainError) as error:
        run_import(b"", kind="players")
    assert error.value.code == "empty_file"
    job = run_import(b"UserID,Currency\n", kind="players")
    assert job.status == ImportJob.Status.FAILED and job.error_code == "empty_file"


def test_malformed_csv_fails_cleanly(run_import):
    content = (HEADER + _rows(0, 3) + 't9,p1,bet,"1,EUR,2026-01-01\n').encode()
    job = run_import(content, kind="activity")
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "malformed_file"
    assert Activity.objects.count() == 0


def test_post_import_stages_are_recorded(run_import):
    job = run_import((HEADER + _rows(0, 5)).encode(), kind="activity")
    assert set(job.stages) == set(services.STAGES)
    assert job.stages["rules"]["note"] == "skipped: no app provides it"
    assert job.stage == "done" and job.progress_percent == 100
