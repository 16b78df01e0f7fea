"""The import job's page: the JSON status its progress bar polls, and the mapping preview's
rows with the automatic matches."""

import pytest
from django.contrib.auth import get_user_model

from importer.admin import mapping_rows
from importer.models import ImportJob

pytestmark = pytest.mark.django_db

CSV = b"UserID,Username,Currency,RegDate\nu1,ann,EUR,2024-01-01\nu2,bob,EUR,x\n"


def test_status_json_follows_the_job(admin_client, run_import):
    job = run_import(CSV, kind="players", on_error="skip")
    status = admin_client.get(f"/admin/importer/importjob/{job.pk}/status.json")
    assert status.status_code == 200 and "no-store" in status["Cache-Control"]
    body = status.json()
    assert body["status"] == "succeeded" and body["finished"] is True
    assert (body["percent"], body["rows_done"], body["rows_total"], body["rows_rejected"]) == (
        100, 2, 2, 1,
    )  # fmt: skip
    assert body["error_report_url"] == f"/admin/importer/importjob/{job.pk}/errors.csv"

    ImportJob.objects.filter(pk=job.pk).update(status="running", rows_done=1, error_report="")
    body = admin_client.get(f"/admin/importer/importjob/{job.pk}/status.json").json()
    assert (body["finished"], body["percent"], body["error_report_url"]) == (False, 50, None)
    page = admin_client.get(f"/admin/importer/importjob/{job.pk}/change/").content.decode()
    assert 'id="import-progress"' in page and 'data-state="running"' in page
    assert "importer/import_progress.js" in page


def test_status_json_needs_a_staff_user_who_may_see_jobs(client, admin_client, run_import):
    job = run_import(CSV, kind="players", on_error="skip")
    url = f"/admin/importer/importjob/{job.pk}/status.json"
    assert client.get(url).status_code == 302  # to the login page
    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(nobody)
    assert client.get(url).status_code == 403
    assert admin_client.get("/admin/importer/importjob/999999/status.json").status_code == 404


def test_mapping_rows_say_how_each_field_is_read_and_what_was_matched_automatically():
    mapping = {
        "fields": {
            "player_id": "UserID",
            "stake": ["FO", "LA"],
            "currency": {"value": "EUR"},
            "country": {"column": "Land", "lookup": "countries"},
            "email": None,
        },
        "auto_matched": ["player_id"],
    }
    assert mapping_rows(mapping) == [
        {"field": "player_id", "how": "column", "source": "UserID", "details": "", "auto": True},
        {"field": "stake", "how": "sum", "source": "FO + LA", "details": "", "auto": False},
        {"field": "currency", "how": "value", "source": "EUR", "details": "", "auto": False},
        {"field": "country", "how": "column", "source": "Land", "details": 'lookup "countries"',
         "auto": False},
        {"field": "email", "how": "off", "source": "", "details": "", "auto": False},
    ]  # fmt: skip


def test_preview_shows_the_automatic_matches(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    preview = admin_client.post(
        "/admin/importer/importjob/upload/",
        {"file": SimpleUploadedFile("p.csv", CSV), "kind": "players", "on_error": "skip"},
    )
    html = preview.content.decode()
    assert '<tr data-field="player_id"><td>player_id</td><td>UserID</td>' in html
    assert "automatically (by column name)" in html
