"""The reading options through every door: the API, the admin form (preview, then import) and
a saved template (issue 16: "through the API and the admin form")."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from importer.models import ImportJob, ImportTemplate
from players.models import Activity
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db
URL = "/admin/importer/importjob/upload/"


def _post(client, name: str, **data):
    upload = SimpleUploadedFile(name, (FILES / name).read_bytes())
    return client.post(
        "/api/v1/imports/", {"file": upload, "kind": "activity", **data}, format="multipart"
    )


def test_api_separators_and_date_order(api_client_operator):
    response = _post(api_client_operator, "ambiguous_thousands.csv", decimal_separator=",")
    assert response.status_code == 202, response.json()
    body = api_client_operator.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert body["status"] == "succeeded" and body["decimal_separator"] == ","
    assert Activity.objects.get(external_id="t1").amount == Decimal(1000)
    Activity.objects.all().delete()  # the next file reuses the ids t1-t3 (a conflict)
    response = _post(api_client_operator, "ambiguous_dates.csv", date_order="MDY")
    body = api_client_operator.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert body["status"] == "succeeded", body


def test_api_refusal_of_an_ambiguous_file_names_both_readings(api_client_operator):
    response = _post(api_client_operator, "ambiguous_thousands.csv")
    body = api_client_operator.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert body["status"] == "failed" and body["error_code"] == "ambiguous_number"
    assert "1000" in body["message"] and "1.000" in body["message"]


@pytest.mark.parametrize(
    "data,code",
    [
        ({"decimal_separator": ";"}, "invalid_option"),
        ({"date_order": "YMD"}, "invalid_option"),
        ({"time_zone": "Mars/Olympus"}, "invalid_option"),
        ({"on_conflict": "merge"}, "invalid_option"),
    ],
)
def test_api_bad_options_answer_400(api_client_operator, data, code):
    response = _post(api_client_operator, "uk_dates.csv", **data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_templates_keep_reading_options(api_client_operator):
    created = api_client_operator.post(
        "/api/v1/imports/templates/",
        {"name": "de-pam", "kind": "activity", "mapping": {}, "decimal_separator": ",",
         "date_order": "DMY", "header_row": 1, "time_zone": "Europe/Berlin"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert ImportTemplate.objects.get().date_order == "DMY"
    response = _post(api_client_operator, "ambiguous_thousands.csv", template="de-pam")
    body = api_client_operator.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert body["status"] == "succeeded", body
    assert Activity.objects.get(external_id="t1").amount == Decimal(1000)


def test_admin_form_preview_and_import_with_options(
    admin_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("a.csv", (FILES / "ambiguous_thousands.csv").read_bytes())
    preview = admin_client.post(URL, {"file": upload, "kind": "activity", "on_error": "reject"})
    page = preview.content.decode()
    assert "ambiguous_number" in page  # the preview says why, before importing
    token = preview.context["form"].initial["preview_token"]
    options = {"preview_token": token, "kind": "activity", "on_error": "reject",
               "decimal_separator": ","}  # fmt: skip
    preview = admin_client.post(URL, options)
    assert "1000" in preview.content.decode()  # as it will be stored
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(URL, {**options, "_import": "1"})
    assert done.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "succeeded" and job.decimal_separator == ","
    assert Activity.objects.get(external_id="t1").amount == Decimal(1000)


def test_admin_preview_shows_warnings_and_title_suggestion(admin_client):
    upload = SimpleUploadedFile("s.csv", (FILES / "fi_headers.csv").read_bytes())
    preview = admin_client.post(URL, {"file": upload, "kind": "aggregates", "on_error": "reject"})
    page = preview.content.decode()
    assert "Warnings" in page and "Bonus EUR" in page
    upload = SimpleUploadedFile("t.csv", (FILES / "title_block.csv").read_bytes())
    preview = admin_client.post(URL, {"file": upload, "kind": "activity", "on_error": "reject"})
    assert "set header_row=3" in preview.content.decode()
