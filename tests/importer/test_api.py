"""POST imports/, GET imports/{id}/, errors.csv and templates through the API."""

import json
import os

import pytest

from importer.models import ImportJob, ImportTemplate
from players.models import Activity, Player

pytestmark = pytest.mark.django_db

CSV = (
    b"TxID,Player ID,Type,Amount,Currency,Date\n"
    b"t1,p1,deposit,100.00,EUR,2026-01-02T10:00:00Z\n"
    b"t2,p1,bet,-10,EUR,2026-01-02\n"
    b"t3,p2,bet,=HYPERLINK(1),EUR,2026-01-02\n"
)


def _upload(client, content=CSV, name="a.csv", **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"file": SimpleUploadedFile(name, content), "kind": "activity", **data}
    return client.post("/api/v1/imports/", payload, format="multipart")


def test_post_import_runs_the_job_and_reports_progress(api_client_operator):
    response = _upload(api_client_operator, on_error="skip")
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    body = api_client_operator.get(f"/api/v1/imports/{job_id}/").json()
    assert body["status"] == "succeeded" and body["stage"] == "done"
    assert (body["rows_total"], body["rows_done"], body["rows_rejected"]) == (3, 3, 2)
    assert body["errors"][0] == {
        "row": 3,
        "column": "Amount",
        "code": "invalid_amount",
        "message": "amount must not be negative: -10",
    }
    assert body["error_report_url"] == f"/api/v1/imports/{job_id}/errors.csv"
    report = api_client_operator.get(body["error_report_url"])
    assert report.status_code == 200 and report["Content-Type"] == "text/csv"
    text = b"".join(report.streaming_content).decode()
    # The cell a spreadsheet would run is escaped in the report.
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    "data,code",
    [
        ({"kind": "bonuses"}, "unknown_kind"),
        ({"mapping": "{not json"}, "invalid_mapping"),
        ({"mapping": '{"amount": "Amount\\ud800"}'}, "invalid_mapping"),  # a lone surrogate
        ({"mapping": json.dumps({"colour": "Type"})}, "invalid_mapping"),
        ({"mapping": json.dumps({"amount": "Nope"})}, "missing_column"),
        ({"template": "nope"}, "unknown_template"),
        ({"on_error": "maybe"}, "invalid_on_error"),
    ],
)
def test_bad_requests_answer_400(api_client_operator, data, code):
    response = _upload(api_client_operator, **data)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert ImportJob.objects.count() == 0


def test_garbage_upload_answers_400_and_writes_nothing(api_client_operator):
    response = _upload(api_client_operator, content=os.urandom(10 * 1024 * 1024), name="x.csv")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unreadable_file"
    assert ImportJob.objects.count() == 0 and Player.objects.count() == 0


def test_analyst_may_read_but_not_import(analyst_client):
    assert _upload(analyst_client).status_code == 403
    assert analyst_client.get("/api/v1/imports/").status_code == 200


def test_templates_crud_and_use(api_client_operator):
    mapping = {"external_id": "TxID", "amount": "Amount", "currencies": {"bits": 2}}
    created = api_client_operator.post(
        "/api/v1/imports/templates/",
        {"name": "pam-activity", "kind": "activity", "mapping": mapping, "on_error": "skip"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["mapping"]["currencies"] == {"BITS": {"minor_units": 2, "name": ""}}
    bad = api_client_operator.post(
        "/api/v1/imports/templates/",
        {"name": "bad", "kind": "activity", "mapping": {"amount": 5}},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_mapping"
    response = _upload(api_client_operator, template="pam-activity")
    assert response.status_code == 202
    job = ImportJob.objects.get()
    assert job.template.name == "pam-activity" and job.on_error == "skip"
    assert job.status == "succeeded"
    listed = api_client_operator.get("/api/v1/imports/templates/").json()
    assert [t["name"] for t in listed["results"]] == ["pam-activity"]
    assert api_client_operator.delete("/api/v1/imports/templates/pam-activity/").status_code == 204
    assert not ImportTemplate.objects.exists()
