"""The admin upload (preview, then import), progress page, and formula-safe exports."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from config.spreadsheets import formula_safe
from importer.models import ImportJob
from players.models import Currency, Player
from players.resources import PlayerResource

pytestmark = pytest.mark.django_db

CSV = b"UserID,Username,Currency,RegDate\nu1,=cmd|' /C calc'!A0,EUR,2024-01-01\nu2,ann,EUR,x\n"


def test_admin_upload_preview_then_import(admin_client, django_capture_on_commit_callbacks):
    url = "/admin/importer/importjob/upload/"
    assert admin_client.get(url).status_code == 200
    preview = admin_client.post(
        url,
        {"file": SimpleUploadedFile("p.csv", CSV), "kind": "players", "on_error": "skip"},
    )
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "First rows as they will be read" in page and "invalid_date" in page
    assert ImportJob.objects.count() == 0
    token = preview.context["form"].initial["preview_token"]
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            url,
            {"preview_token": token, "kind": "players", "on_error": "skip", "_import": "1"},
        )
    assert done.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "succeeded" and job.rows_rejected == 1
    change = admin_client.get(f"/admin/importer/importjob/{job.pk}/change/")
    assert change.status_code == 200 and "<progress" in change.content.decode()
    report = admin_client.get(f"/admin/importer/importjob/{job.pk}/errors.csv")
    assert report.status_code == 200
    listing = admin_client.get("/admin/importer/importjob/")
    assert listing.status_code == 200 and "Import a file" in listing.content.decode()


def test_admin_upload_of_garbage_shows_the_error(admin_client):
    response = admin_client.post(
        "/admin/importer/importjob/upload/",
        {
            "file": SimpleUploadedFile("g.csv", b"\x00\xff" * 5000),
            "kind": "players",
            "on_error": "reject",
        },
    )
    assert response.status_code == 200
    assert "unreadable_file" in response.content.decode()


@pytest.mark.parametrize(
    "value,expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-31337-", "'-31337-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (5, 5),
    ],
)
def test_formula_safe(value, expected):
    assert formula_safe(value) == expected


def test_player_export_is_formula_safe_and_masked():
    Player.objects.create(
        external_id="=1+1",
        username='=HYPERLINK("http://evil")',
        email="john@example.com",
        currency=Currency.objects.get(code="EUR"),
        registered_at=timezone.now(),
    )
    dataset = PlayerResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["external_id"] == "'=1+1"
    assert row["username"] == "'=***"
    assert row["email"] == "j***@e***.com"
    csv_text = dataset.csv
    assert ",=1+1" not in csv_text and "'=1+1" in csv_text


def test_player_resource_imports_by_external_id():
    data = tablib.Dataset(headers=["external_id", "country", "currency", "registered_at", "status"])
    data.append(["x1", "DE", "EUR", "2024-01-01 00:00:00", "active"])
    result = PlayerResource().import_data(data, dry_run=False)
    assert not result.has_errors(), [e.error for e in result.base_errors]
    assert Player.objects.get(external_id="x1").country == "DE"


def test_error_report_of_a_missing_job_is_404(admin_client):
    assert admin_client.get("/admin/importer/importjob/999999/errors.csv").status_code == 404


def test_analyst_sees_jobs_but_cannot_run_them_again(client, run_import):
    from django.contrib.auth.models import Group, User

    from config.roles import roles_sync

    roles_sync()
    job = run_import(b"UserID,Currency\nu1,EUR\n", kind="players")
    analyst = User.objects.create_user("analyst-staff", password="x", is_staff=True)
    analyst.groups.add(Group.objects.get(name="analyst"))
    client.force_login(analyst)
    listing = client.get("/admin/importer/importjob/")
    assert listing.status_code == 200 and "retry" not in listing.content.decode()
    assert client.get(f"/admin/importer/importjob/{job.pk}/change/").status_code == 200
    refused = client.post(
        "/admin/importer/importjob/", {"action": "retry", "_selected_action": [job.pk]}
    )
    assert refused.status_code in {200, 403}
    job.refresh_from_db()
    assert job.status == "succeeded"
