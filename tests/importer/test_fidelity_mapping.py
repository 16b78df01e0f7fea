"""Automatic matching of real headers (unit suffixes, other languages) and the warnings about
what a mapping leaves out (issue 16, case 7)."""

from decimal import Decimal

import pytest

from importer.fields import header_base, mapping_parse
from importer.models import ImportJob
from players.models import Activity
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db


def stored() -> list[tuple]:
    return sorted(Activity.objects.values_list("player__external_id", "type", "amount", "count"))


def test_unit_suffixes_are_understood(run_import):
    # Case 7: "Stakes (EUR)" was not matched: 40 bets stored with 0.00 turnover.
    job = run_import(FILES / "stakes_eur.xlsx", kind="aggregates")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert job.mapping["fields"]["stakes"] == "Stakes (EUR)"
    assert job.mapping["fields"]["wins"] == "Wins (EUR)"
    assert stored() == [("p1", "bet", Decimal(400), 40), ("p1", "win", Decimal(150), 1)]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("fi_headers.csv", [("f1", "bet", Decimal(1250), 1), ("f1", "win", Decimal(300), 1)]),
        ("sv_headers.csv", [("s1", "bet", Decimal(12500), 1), ("s1", "win", Decimal("3000.5"), 1)]),
        ("pt_headers.csv", [("b1", "bet", Decimal("1234.56"), 1), ("b1", "win", Decimal("99.9"), 1)]),
        ("stakes_eur_suffix.csv", [("p1", "bet", Decimal("250.5"), 40),
                                   ("p1", "win", Decimal(100), 1),
                                   ("p2", "bet", Decimal(1000), 3),
                                   ("p2", "win", Decimal("12.5"), 1)]),
    ],
)  # fmt: skip
def test_headers_in_other_languages(run_import, name, expected):
    job = run_import(FILES / name, kind="aggregates")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert stored() == expected


@pytest.mark.parametrize(
    "header,base",
    [
        ("Stakes (EUR)", "stakes"),
        ("Turnover EUR", "turnover"),
        ("Einsatz in €", "einsatz"),
        ("EUR Wins", "wins"),
        ("Einsätze [SEK]", "einsatze"),
        ("Player ID", "playerid"),
    ],
)
def test_header_base(header, base):
    assert header_base(header) == base


def test_two_columns_fitting_one_field_are_left_to_the_operator():
    columns = ["Player ID", "Date", "Stakes (EUR)", "Stakes (USD)", "Currency"]
    mapping = mapping_parse(kind="aggregates", raw={}, columns=columns)
    assert "stakes" not in mapping.sources


def test_warnings_about_what_the_mapping_leaves_out(run_import):
    job = run_import(FILES / "fi_headers.csv", kind="aggregates")
    codes = [(w["code"], w.get("column") or w.get("field")) for w in job.warnings]
    assert ("unmapped_money_column", "Bonus EUR") not in codes  # "bonus" is not a stake
    assert ("unused_column", "Bonus EUR") in codes
    assert ("unmapped_field", "deposits") in codes


def test_an_unmapped_money_looking_column_warns_before_the_import(api_client_operator):
    content = b"Player ID,Date,Stakes,Total Bet Amount (EUR),Currency\np1,2026-01-05,10,10,EUR\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_client_operator.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("x.csv", content), "kind": "aggregates"},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    warnings = response.json()["warnings"]
    assert warnings[0]["code"] == "unmapped_money_column"
    assert warnings[0]["column"] == "Total Bet Amount (EUR)"
