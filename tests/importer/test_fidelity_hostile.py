"""Hostile uploads (issue 16, case 10), generated here rather than committed: each is answered
with a clear error, leaves no file behind, and the server keeps serving."""

import io
import os
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from importer import workbooks
from importer.models import ImportJob
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db


def _workbook_bytes(fill) -> bytes:
    workbook = Workbook()
    fill(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def dimension_bomb() -> bytes:
    def fill(workbook):
        sheet = workbook.active
        sheet["A1"] = "Player ID"
        sheet["XFD1048576"] = "x"

    return _workbook_bytes(fill)


def zip_bomb(unpacked_mb: int = 40) -> bytes:
    """A valid-looking workbook whose sheet is megabytes of blanks (compresses ~1000:1)."""
    source = zipfile.ZipFile(io.BytesIO((FILES / "stakes_eur.xlsx").read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            data = source.read(part.filename)
            if part.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (unpacked_mb << 20))
            target.writestr(part.filename, data)
    return out.getvalue()


def _post(client, content: bytes, name: str = "weekly.xlsx"):
    upload = SimpleUploadedFile(name, content)
    return client.post(
        "/api/v1/imports/", {"file": upload, "kind": "aggregates"}, format="multipart"
    )


def _left_behind(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _still_serving(client) -> None:
    assert client.get("/api/v1/imports/").status_code == 200


@pytest.mark.parametrize(
    "content,words",
    [
        (dimension_bomb, "rows x"),
        (zip_bomb, "compressed"),
    ],
)
def test_hostile_workbooks_are_refused_before_they_are_read(
    api_client_operator, settings, content, words
):
    response = _post(api_client_operator, content())
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "unsafe_file" and words in error["message"]
    assert not ImportJob.objects.exists()
    assert _left_behind(settings) == []
    _still_serving(api_client_operator)


def test_dimension_bomb_is_1_6_kb_and_names_the_area(api_client_operator):
    content = dimension_bomb()
    assert len(content) < 10_000
    error = _post(api_client_operator, content).json()["error"]
    assert error["details"] == {"rows": 1048576, "columns": 16384}


def test_total_unpacked_size_limit(api_client_operator, settings, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_UNCOMPRESSED", 1 << 20)
    monkeypatch.setattr(workbooks, "MAX_RATIO", 10**6)
    response = _post(api_client_operator, zip_bomb(2))
    assert response.json()["error"]["code"] == "unsafe_file"
    assert "unpacks to" in response.json()["error"]["message"]
    assert _left_behind(settings) == []


def test_sheet_count_limit(api_client_operator, settings, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_SHEETS", 2)

    def fill(workbook):
        for name in ("a", "b"):
            workbook.create_sheet(name)

    response = _post(api_client_operator, _workbook_bytes(fill))
    assert response.json()["error"]["code"] == "unsafe_file"
    assert "3 sheets" in response.json()["error"]["message"]


def test_upload_over_the_cap_is_refused_while_streaming(api_client_operator, settings):
    settings.PITBOSS = {**settings.PITBOSS, "IMPORT_MAX_UPLOAD_BYTES": 10_000}
    content = b"Player ID,Date,Stakes,Currency\n" + b"p1,2026-01-01,1,EUR\n" * 2000
    response = _post(api_client_operator, content, name="big.csv")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert _left_behind(settings) == []
    assert not ImportJob.objects.exists()
    _still_serving(api_client_operator)


def test_upload_cap_in_the_admin(admin_client, settings):
    settings.PITBOSS = {**settings.PITBOSS, "IMPORT_MAX_UPLOAD_BYTES": 10_000}
    content = b"Player ID,Date,Stakes,Currency\n" + b"p1,2026-01-01,1,EUR\n" * 2000
    response = admin_client.post(
        "/admin/importer/importjob/upload/",
        {"file": SimpleUploadedFile("big.csv", content), "kind": "aggregates", "on_error": "skip"},
    )
    assert response.status_code == 413
    assert _left_behind(settings) == []
    assert admin_client.get("/admin/importer/importjob/upload/").status_code == 200


def test_a_refused_admin_upload_leaves_no_file(admin_client, settings):
    response = admin_client.post(
        "/admin/importer/importjob/upload/",
        {
            "file": SimpleUploadedFile("bomb.xlsx", dimension_bomb()),
            "kind": "aggregates",
            "on_error": "reject",
        },
    )
    assert response.status_code == 200 and "unsafe_file" in response.content.decode()
    assert _left_behind(settings) == []


def _allocate_a_lot() -> int:
    return len(bytearray(2 << 30))


def _abort() -> None:
    os.abort()  # what a Rust reader does when an allocation fails


@pytest.mark.parametrize("function", [_allocate_a_lot, _abort])
def test_reading_past_the_memory_limit_fails_the_read_not_the_process(settings, function):
    settings.PITBOSS = {**settings.PITBOSS, "IMPORT_MEMORY_LIMIT_MB": 256}
    with pytest.raises(Exception) as caught:
        workbooks.run_limited(function)
    assert caught.value.code == "file_too_large"
    assert "256 MB" in caught.value.message
    assert workbooks.run_limited(len, "still here") == 10


def test_a_worker_running_out_of_memory_fails_the_job(settings, monkeypatch):
    from importer import reading, services

    settings.PITBOSS = {**settings.PITBOSS, "IMPORT_MEMORY_LIMIT_MB": 256}
    upload = services.upload_from_path(str(FILES / "title_block.xlsx"))
    with upload:
        job = services.import_job_create(
            file=upload, kind="aggregates", header_row=3, start=False
        )  # the upload check reads the sheet within the limit
    reading.file_release(job.file.path)  # the worker reads it again, and now runs out
    monkeypatch.setattr(reading, "_cell_text", lambda value: "x" * (1 << 31))
    job = services.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "file_too_large"
    assert "256 MB" in job.message
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.rows.*"))
    assert workbooks.run_limited(len, "still here") == 10
