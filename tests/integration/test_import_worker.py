"""A workbook is parsed by a real Celery worker, never by the web process that took the upload:
its refusals reach the uploader as if read here, and a hostile one costs no web process."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app as celery_app
from importer import reading
from importer.models import ImportJob
from tests.importer.conftest import FILES
from tests.importer.test_fidelity_hostile import dimension_bomb, zip_bomb

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(tmp_path):
    """Where the tests put workbooks to read (absolute paths: the worker reads them too)."""
    return tmp_path


@pytest.fixture
def worker(celery_worker_with_results):
    celery_app._local.__dict__.pop("backend", None)  # built for the earlier conf
    yield celery_worker_with_results
    celery_app._local.__dict__.pop("backend", None)


def test_the_worker_reads_the_sheet_and_the_web_process_does_not(worker, media):
    path = media / "stakes.xlsx"
    shutil.copy(FILES / "stakes_eur.xlsx", path)
    info = reading.file_sniff(path=str(path))
    assert info.format == "xlsx" and "Player ID" in info.columns
    meta = json.loads(Path(reading._converted(str(path))[1]).read_text(encoding="utf-8"))
    assert meta["converted_by"] == worker.pid  # the worker process itself (the solo pool)
    assert meta["converted_by"] != os.getpid()


@pytest.mark.parametrize("content", [dimension_bomb, zip_bomb], ids=["dimension", "zip"])
def test_a_hostile_workbook_is_refused_by_the_worker_which_lives_on(worker, media, content):
    path = media / "hostile.xlsx"
    path.write_bytes(content())
    with pytest.raises(Exception) as refused:
        reading.file_sniff(path=str(path))
    assert refused.value.code == "unsafe_file"
    assert worker.poll() is None, "the worker died"
    # and it still reads the next workbook
    good = media / "next.xlsx"
    shutil.copy(FILES / "stakes_eur.xlsx", good)
    assert "Player ID" in reading.file_sniff(path=str(good)).columns


def test_an_uploaded_workbook_is_imported_end_to_end_through_the_worker(worker, operator_client):
    upload = SimpleUploadedFile("stakes.xlsx", (FILES / "stakes_eur.xlsx").read_bytes())
    response = operator_client.post(
        "/api/v1/imports/", {"file": upload, "kind": "aggregates"}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get(pk=response.json()["id"])
    deadline = time.monotonic() + 60
    while job.status not in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
        assert time.monotonic() < deadline, f"job still {job.status} at {job.stage}"
        assert worker.poll() is None, "the worker died"
        time.sleep(0.3)
        job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert job.rows_done > 0


def test_no_worker_in_time_is_a_503_not_a_parse_in_the_web_process(media, settings):
    """A broker and result backend with no worker consuming: the upload gives up cleanly."""
    settings.PITBOSS = {**settings.PITBOSS, "IMPORT_SHEET_TIMEOUT_SECONDS": 1}
    path = media / "stakes.xlsx"
    shutil.copy(FILES / "stakes_eur.xlsx", path)
    from tests.integration.conftest import BROKER, _drop_broker_pools

    keys = ("task_always_eager", "broker_url", "result_backend")
    previous = {key: celery_app.conf[key] for key in keys}
    _drop_broker_pools()
    celery_app.conf.update(task_always_eager=False, broker_url=BROKER, result_backend=BROKER)
    celery_app._local.__dict__.pop("backend", None)
    try:
        with pytest.raises(Exception) as refused:
            reading.file_sniff(path=str(path))
    finally:
        _drop_broker_pools()
        celery_app.conf.update(previous)
        celery_app._local.__dict__.pop("backend", None)
    assert (refused.value.code, refused.value.status_code) == ("workers_unavailable", 503)
    assert not os.path.exists(reading._converted(str(path))[1])
