"""Issue 11 case 5: one identifier rule at every door, and every accepted id addressable.

The rule (players/identifiers.py, docs/api.md "Input rules"): printable characters without `/`
or `\\`, no leading or trailing space, not `.` or `..`; players 1–128 characters, events and
rounds 1–200. Every accepted id is addressable percent-encoded.
"""

from urllib.parse import quote

import pytest
from django.contrib.admin.sites import site
from tablib import Dataset

from importer.models import ImportJob
from players.admin import PlayerForm
from players.models import Activity, Player
from players.resources import PlayerResource
from tests.api.test_api_errors import URL, assert_error, ev
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

GOOD_IDS = [
    "12345",
    "EU-123",
    "brand:42",
    "john.doe@casino.example",
    "a+b=c~d_e",
    "ü-spieler",
    "0b2f6c1e-8d4a-4c3b-9e1f-2a7d5c6b8e90",
    "#NAME?",  # bustabit's export holds it
    "a?b",
    "a#b",
    "100%",
    "100%25",
    "John Smith",
    "a&b",
    "...",
    "x" * 128,
]
BAD_IDS = [
    "EU/123",
    "/",
    "a\\b",
    ".",
    "..",
    " p-1",
    "p-1 ",
    "p-1\t",
    "a\x00b",
    "a\nb",
    "a\u200bb",  # zero-width space
    "a\u00a0b",  # no-break space
    "x" * 129,
    "x" * 300,
]


def _per_player_calls(client, path_id: str) -> dict[str, object]:
    base = f"/api/v1/players/{path_id}/"
    grant = {"amount": "5.00", "currency": "EUR", "wagering_multiplier": "1", "reason": "t"}
    adjust = {"amount": "1.00", "currency": "EUR", "reason": "t"}
    return {
        "detail": client.get(base),
        "wallet": client.get(base + "wallet/"),
        "ledger": client.get(base + "ledger/"),
        "bonuses": client.post(
            base + "bonuses/", grant, format="json", HTTP_IDEMPOTENCY_KEY=f"g-{path_id}"
        ),
        "adjustments": client.post(
            base + "adjustments/", adjust, format="json", HTTP_IDEMPOTENCY_KEY=f"a-{path_id}"
        ),
    }


@pytest.mark.parametrize("external_id", GOOD_IDS)
def test_every_accepted_player_id_is_addressable_everywhere(
    service_client, admin_client_api, external_id
):
    response = service_client.post(URL, ev(player_id=external_id), format="json")
    assert response.json()["results"][0]["status"] == "applied"
    paths = {quote(external_id, safe="")}
    if quote(external_id, safe=":@+=~&") == external_id:  # usable unencoded too
        paths.add(external_id)
    for path_id in paths:
        answers = _per_player_calls(admin_client_api, path_id)
        assert {name: r.status_code for name, r in answers.items()} == {
            "detail": 200,
            "wallet": 200,
            "ledger": 200,
            "bonuses": 201,
            "adjustments": 201,
        }, {name: r.content[:200] for name, r in answers.items()}
        assert answers["detail"].json()["external_id"] == external_id


@pytest.mark.parametrize("external_id", BAD_IDS)
@pytest.mark.parametrize("field", ["player_id", "external_id", "round_id", "reference_id"])
def test_an_id_outside_the_rule_is_refused_with_a_clear_message(service_client, field, external_id):
    event = ev(type="win", amount="0.00") if field in {"round_id", "reference_id"} else ev()
    if external_id == "x" * 129 and field != "player_id":
        external_id = "x" * 201  # events and rounds may have 200
    event[field] = external_id
    error = assert_error(service_client.post(URL, event, format="json"), 400, "invalid")
    message = str(error["details"][field])
    assert "identifier" in message.lower()
    assert not Activity.objects.exists()
    assert not Player.objects.exists()


def test_in_a_batch_an_id_outside_the_rule_rejects_only_that_event(service_client):
    events = [ev(external_id="ok-1"), ev(external_id="bad/1"), ev(external_id="ok-2")]
    results = service_client.post(URL, {"events": events}, format="json").json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"]["code"] == "invalid_event"
    assert "external_id" in results[1]["reason"]["details"]


@pytest.mark.parametrize(
    "path_id", ["EU%2F123", "EU/123", "a%5Cb", "%2E", "%2E%2E", "%20EU", "a%00b", "x" * 129]
)
@pytest.mark.parametrize("suffix", ["", "wallet/", "ledger/", "bonuses/", "adjustments/"])
def test_a_path_outside_the_rule_is_a_json_404(admin_client_api, path_id, suffix):
    PlayerFactory(external_id="EU")
    response = admin_client_api.get(f"/api/v1/players/{path_id}/{suffix}")
    assert_error(response, 404, "not_found")


# --- imports -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["EU/123", "a\\b", "..", "ü/x", "a\u200bb"])
def test_imports_refuse_ids_outside_the_rule(run_import_here, bad):
    header = "TxID,Player ID,Type,Amount,Currency,Date,Round,Reference\n"
    rows = [
        "t0,p1,bet,1.00,EUR,2026-01-02T10:00:00Z,r1,\n",
        f"t1,{bad},bet,1.00,EUR,2026-01-02T10:00:00Z,,\n",
        f"{bad},p1,bet,1.00,EUR,2026-01-02T10:00:00Z,,\n",
        f"t3,p1,win,1.00,EUR,2026-01-02T10:00:00Z,{bad},\n",
        f"t4,p1,win,1.00,EUR,2026-01-02T10:00:00Z,,{bad}\n",
    ]
    job = run_import_here((header + "".join(rows)).encode(), kind="activity", on_error="skip")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    found = {(e["row"], e["column"], e["code"]) for e in job.errors}
    assert found == {
        (3, "Player ID", "invalid_identifier"),
        (4, "TxID", "invalid_identifier"),
        (5, "Round", "invalid_identifier"),
        (6, "Reference", "invalid_identifier"),
    }
    assert list(Activity.objects.values_list("external_id", flat=True)) == ["t0"]


def test_imports_accept_ids_inside_the_rule(run_import_here):
    content = "Player ID,Country\n" + "".join(f'"{i}",DE\n' for i in GOOD_IDS)
    job = run_import_here(content.encode(), kind="players", on_error="reject")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.message, job.errors)
    assert set(Player.objects.values_list("external_id", flat=True)) == set(GOOD_IDS)


@pytest.fixture
def run_import_here(tmp_path, settings):
    from django.core.files.base import ContentFile

    from importer import services

    settings.MEDIA_ROOT = tmp_path / "media"

    def run(content: bytes, *, kind: str, **options):
        upload = ContentFile(content, name="upload.csv")
        job = services.import_job_create(file=upload, kind=kind, start=False, **options)
        return services.import_job_run(job_id=job.pk)

    return run


# --- the admin: the player form and the import-export players import -----------------------


def _form(external_id: str, instance: Player | None = None) -> PlayerForm:
    data = {
        "external_id": external_id,
        "currency": "EUR",
        "registered_at_0": "2026-01-01",
        "registered_at_1": "10:00:00",
        "status": "active",
        "country": "DE",
        "risk_score": 0,
        "segment": "new",
    }
    return PlayerForm(data=data, instance=instance)


@pytest.mark.parametrize("bad", ["EU/123", "a\\b", "..", "x" * 129])
def test_the_admin_player_form_refuses_ids_outside_the_rule(bad):
    form = _form(bad)
    assert not form.is_valid()
    assert "external_id" in form.errors


@pytest.mark.parametrize("good", ["EU-123", "user@brand", "ü-spieler", "#NAME?"])
def test_the_admin_player_form_accepts_ids_inside_the_rule(good):
    form = _form(good)
    form.is_valid()
    assert "external_id" not in form.errors


def test_a_legacy_id_does_not_block_editing_its_player():
    legacy = PlayerFactory(external_id="EU/123")
    form = _form("EU/123", instance=legacy)
    form.is_valid()
    assert "external_id" not in form.errors


def test_the_admin_uses_the_checked_form():
    assert site._registry[Player].form is PlayerForm


@pytest.mark.parametrize("bad", ["EU/123", "a\\b", ".."])
def test_the_import_export_players_import_refuses_ids_outside_the_rule(bad):
    dataset = Dataset(headers=["external_id", "country", "currency", "registered_at", "status"])
    dataset.append([bad, "DE", "EUR", "2026-01-01 10:00:00", "active"])
    dataset.append(["good-1", "DE", "EUR", "2026-01-01 10:00:00", "active"])
    result = PlayerResource().import_data(dataset, dry_run=True, raise_errors=False)
    assert result.has_validation_errors()
    invalid = result.invalid_rows[0]
    assert "external_id" in invalid.field_specific_errors
