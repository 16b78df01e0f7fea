"""Saved lookups through the API (values or a two-column file), and templates with their
lookups and reading options exported to move them between installations."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from importer.models import ImportLookup, ImportTemplate
from importer.resources import ImportLookupResource, ImportTemplateResource
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/lookups/"


def test_a_lookup_is_saved_from_values_and_from_a_file(operator_client):
    created = operator_client.post(
        URL,
        {"name": "statuses", "description": "PAM codes", "values": {" excl ": "self_excluded"}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["values"] == {"excl": "self_excluded"}
    uploaded = operator_client.post(
        URL,
        {
            "name": "game-types",
            "file": SimpleUploadedFile("codes.csv", (FILES / "game_types_lookup.csv").read_bytes()),
        },
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.json()
    assert ImportLookup.objects.get(name="game-types").values == {
        "SL": "slots",
        "LC": "live",
        "TB": "table",
    }
    listed = operator_client.get(URL).json()
    assert [row["name"] for row in listed["results"]] == ["game-types", "statuses"]
    changed = operator_client.patch(
        f"{URL}statuses/", {"values": {"blk": "blocked"}}, format="json"
    )
    assert changed.status_code == 200
    assert ImportLookup.objects.get(name="statuses").values == {"blk": "blocked"}
    assert operator_client.delete(f"{URL}statuses/").status_code == 204


@pytest.mark.parametrize(
    "values",
    [
        ["SL", "slots"],  # not an object
        {"SL": 1},  # not text
        {"SL": ""},  # nothing to store
        {"  ": "slots"},  # no value in the file
        {"SL": None},
    ],
)
def test_bad_values_are_refused_naming_the_entry(operator_client, values):
    response = operator_client.post(URL, {"name": "bad", "values": values}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_lookup"
    assert not ImportLookup.objects.exists()


def test_a_lookup_file_mapping_one_value_two_ways_is_refused(operator_client):
    response = operator_client.post(
        URL,
        {"name": "bad", "file": SimpleUploadedFile("codes.csv", b"code,cat\nSL,slots\nSL,live\n")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_lookup"
    assert not ImportLookup.objects.exists()


def test_a_lookup_needs_values_or_a_file(operator_client):
    response = operator_client.post(URL, {"name": "empty"}, format="json")
    assert response.status_code == 400


def test_an_analyst_reads_lookups_but_cannot_change_them(analyst_client):
    ImportLookup.objects.create(name="statuses", values={"excl": "self_excluded"})
    assert analyst_client.get(URL).status_code == 200
    response = analyst_client.post(URL, {"name": "x", "values": {"a": "b"}}, format="json")
    assert response.status_code == 403
    assert analyst_client.delete(f"{URL}statuses/").status_code == 403


def test_templates_export_with_their_reading_options_and_lookups_round_trip():
    ImportTemplate.objects.create(
        name="de-pam",
        kind="activity",
        mapping={"game_category": {"column": "GAME", "lookup": "game-types"}},
        delimiter=";",
        decimal_separator=",",
        thousands_separator=".",
        date_order="dmy",
        header_row=2,
    )
    ImportLookup.objects.create(name="game-types", values={"SL": "slots", "=1+1": "table"})
    templates = ImportTemplateResource().export()
    lookups = ImportLookupResource().export()
    row = dict(zip(templates.headers, templates[0], strict=True))
    assert (row["decimal_separator"], row["thousands_separator"], row["date_order"]) == (
        ",",
        ".",
        "dmy",
    )
    assert str(row["header_row"]) == "2"
    # into an empty installation
    ImportTemplate.objects.all().delete()
    ImportLookup.objects.all().delete()
    assert not ImportLookupResource().import_data(lookups, raise_errors=True).has_errors()
    assert not ImportTemplateResource().import_data(templates, raise_errors=True).has_errors()
    template = ImportTemplate.objects.get(name="de-pam")
    assert (template.delimiter, template.decimal_separator, template.header_row) == (";", ",", 2)
    assert ImportLookup.objects.get(name="game-types").values == {"SL": "slots", "=1+1": "table"}
