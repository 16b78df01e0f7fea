"""Coded values (a country as 276 or Germany, a game type as SL, a status as excl): value
maps, saved lookups, countries without a hand-made map; an unmapped value is a row error."""

import pytest

from importer import services
from importer.models import ImportJob
from importer.validation import country_alpha2
from players.models import Activity, Player
from tests.importer.conftest import FILES

pytestmark = pytest.mark.django_db


def test_countries_by_name_and_iso_code_and_statuses_by_map(run_import):
    mapping = {
        "status": {"column": "Status", "map": {"active": "active", "excl": "self_excluded",
                                                "blk": "blocked"}},
    }  # fmt: skip
    job = run_import(
        FILES / "players_countries.csv", kind="players", mapping=mapping, on_error="skip"
    )
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert dict(Player.objects.values_list("external_id", "country")) == {
        "u1": "DE",
        "u2": "DE",
        "u3": "SE",
        "u4": "FI",
    }
    assert Player.objects.get(external_id="u2").status == "self_excluded"
    assert Player.objects.get(external_id="u4").status == "blocked"
    assert [(e["row"], e["code"]) for e in job.errors] == [(6, "invalid_country")]


def test_an_unmapped_value_is_a_row_error_naming_it(run_import):
    mapping = {"game_category": {"column": "GAME", "map": {"SL": "slots", "LC": "live"}}}
    job = run_import(FILES / "coded_game_types.csv", kind="activity", mapping=mapping,
                     on_error="skip")  # fmt: skip
    assert job.status == ImportJob.Status.SUCCEEDED
    assert [(e["row"], e["code"], e["message"]) for e in job.errors] == [
        (4, "unmapped_value", "game_category: the value map has no entry for XX")
    ]
    assert dict(Activity.objects.values_list("external_id", "game_category")) == {
        "t1": "slots",
        "t2": "live",
    }


def test_a_saved_lookup_uploaded_as_a_two_column_file(run_import):
    services.import_lookup_save(name="game-types", path=str(FILES / "game_types_lookup.csv"))
    mapping = {"game_category": {"column": "GAME", "lookup": "game-types"}}
    job = run_import(FILES / "coded_game_types.csv", kind="activity", mapping=mapping,
                     on_error="skip")  # fmt: skip
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.errors[0]["message"] == "game_category: lookup 'game-types' has no entry for XX"
    assert dict(Activity.objects.values_list("external_id", "game_category")) == {
        "t1": "slots",
        "t2": "live",
    }


def test_an_unknown_lookup_is_refused_at_upload(run_import):
    mapping = {"game_category": {"column": "GAME", "lookup": "nope"}}
    with pytest.raises(Exception) as caught:
        run_import(FILES / "coded_game_types.csv", kind="activity", mapping=mapping)
    assert caught.value.code == "unknown_lookup"


def test_a_lookup_mapping_one_value_two_ways_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"code,category\nSL,slots\nSL,live\n")
    with pytest.raises(Exception) as caught:
        services.import_lookup_save(name="bad", path=str(path))
    assert caught.value.code == "invalid_lookup"


def test_lookup_upload_in_the_admin(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        "/admin/importer/importlookup/add/",
        {
            "name": "game-types",
            "description": "PAM game codes",
            "values": "{}",
            "file": SimpleUploadedFile("codes.csv", (FILES / "game_types_lookup.csv").read_bytes()),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from importer.models import ImportLookup

    assert ImportLookup.objects.get(name="game-types").values == {
        "SL": "slots",
        "LC": "live",
        "TB": "table",
    }


@pytest.mark.parametrize(
    "value,code",
    [("276", "DE"), ("40", "AT"), ("DEU", "DE"), ("germany", "DE"), ("United Kingdom", "GB"),
     ("Atlantis", "Atlantis")],
)  # fmt: skip
def test_country_alpha2(value, code):
    assert country_alpha2(value) == code
