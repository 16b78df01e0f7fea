"""Exports (SPEC §9, config/exports.py): CSV and XLSX of players, rewards, decisions and the
ledger from the API and the admin's filtered lists — formula-safe under either separator, numbers
kept numbers, streamed, personal data masked per role, filters respected."""

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.db.models.query import QuerySet

import config.exports
from players.models import Player
from rewards.models import Reward
from rewards.services import run_create, run_execute
from tests.factories import PlayerFactory
from tests.rewards.rules.conftest import player_make, rule_make
from tests.rewards.rules.test_admin import LOSS
from tests.wallet.conftest import deposit, key
from wallet import services

pytestmark = pytest.mark.django_db

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
HOSTILE = [
    "ok;=cmd|' /C calc'!A0",
    "ok,=cmd|' /C calc'!A0",
    "=1+1",
    "+41 555",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    'a; =HYPERLINK("http://evil")',
    "a,  +1",
    "x;-y",
    "x,@y",
    "x;\t=1",
    "x;;=1",
    "x,;+1",
    'q"uote;=1',
]


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def _cells_as_a_spreadsheet_sees_them(text: str, separator: str) -> list[str]:
    """Each line split on `separator` whatever the quotes (a spreadsheet set to the other
    separator than the file's), each part without the quotes around it."""
    cells = []
    for line in text.splitlines():
        for part in line.split(separator):
            part = part.strip()
            cells.append(part[1:-1] if part[:1] == '"' and part[-1:] == '"' else part.lstrip('"'))
    return cells


def _assert_no_live_formula(text: str) -> None:
    for separator in (",", ";"):
        for cell in _cells_as_a_spreadsheet_sees_them(text, separator):
            if NUMBER.fullmatch(cell):
                continue  # a number, e.g. -5.00: not a formula
            assert not cell.startswith(DANGEROUS), (separator, cell)


def test_hostile_player_ids_and_names_export_to_csv_as_text(api_client_for):
    for n, value in enumerate(HOSTILE):
        PlayerFactory(external_id=f"{value}#{n}", username=value, email=f"{value}@x.test")
    answer = api_client_for("admin").get("/api/v1/exports/players/?format=csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    text = _body(answer)
    parsed = list(csv.reader(io.StringIO(text)))
    quoted = io.StringIO()
    csv.writer(quoted, quoting=csv.QUOTE_ALL).writerows(parsed)
    assert quoted.getvalue() == text  # every field quoted (QUOTE_ALL)
    _assert_no_live_formula(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(HOSTILE)
    first = next(r for r in rows if r["external_id"].endswith("#0"))
    assert first["external_id"] == "ok;'=cmd|' /C calc'!A0#0"
    assert first["username"] == "ok;'=cmd|' /C calc'!A0"  # admin: in full, neutralised


def test_hostile_values_in_xlsx_are_strings_never_formulas(api_client_for):
    for n, value in enumerate(HOSTILE):
        PlayerFactory(external_id=f"{value}#{n}", username=value)
    answer = api_client_for("operator").get("/api/v1/exports/players/?format=xlsx")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(answer.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                for part in re.split(r"[,;]", cell.value):
                    assert not part.lstrip(" ").startswith(DANGEROUS), cell.value


def test_negative_amounts_stay_numbers_in_csv_and_xlsx(api_client_for, player):
    deposit(player, "20")
    services.wallet_adjust(
        player=player, currency="EUR", amount=Decimal("-5.00"), reason="-fee;=x",
        idempotency_key=key(),
    )  # fmt: skip
    client = api_client_for("analyst")
    query = f"/api/v1/exports/ledger/?kind=adjustment&player={player.external_id}"
    rows = list(csv.DictReader(io.StringIO(_body(client.get(query)))))
    player_row = next(r for r in rows if r["player"] == player.external_id)
    assert (player_row["amount"], player_row["reason"]) == ("-5.00", "'-fee;'=x")
    workbook = client.get(query + "&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(workbook.streaming_content))).active
    header = [c.value for c in sheet[1]]
    cells = {
        row[header.index("player")].value: row[header.index("amount")]
        for row in sheet.iter_rows(min_row=2)
    }
    assert cells[player.external_id].data_type == "n" and cells[player.external_id].value == -5


def test_personal_data_is_masked_for_analysts_only(api_client_for):
    PlayerFactory(external_id="p-1", username="johnny", email="john@example.com")
    by_role = {}
    for role in ("admin", "operator", "analyst"):
        text = _body(api_client_for(role).get("/api/v1/exports/players/"))
        (row,) = csv.DictReader(io.StringIO(text))
        by_role[role] = (row["username"], row["email"])
    assert by_role["admin"] == by_role["operator"] == ("johnny", "john@example.com")
    assert by_role["analyst"] == ("j***", "j***@e***.com")
    assert api_client_for("service").get("/api/v1/exports/players/").status_code == 403


def test_csv_is_streamed_chunk_by_chunk(api_client_for, monkeypatch):
    Player.objects.bulk_create(
        PlayerFactory.build(external_id=f"bulk-{n}", currency_id="EUR") for n in range(3000)
    )
    monkeypatch.setattr(config.exports, "CHUNK_SIZE", 500)
    calls, produced = [], []
    original = QuerySet.iterator

    def spying_iterator(self, chunk_size=None):
        calls.append(chunk_size)
        for row in original(self, chunk_size=chunk_size):
            produced.append(1)
            yield row

    monkeypatch.setattr(QuerySet, "iterator", spying_iterator)
    answer = api_client_for("admin").get("/api/v1/exports/players/")
    assert answer.streaming and not produced  # nothing read before the body is
    chunks = iter(answer.streaming_content)
    next(chunks), next(chunks), next(chunks)  # BOM, header, first row
    assert calls == [500] and len(produced) == 1  # one row read so far, not 3,000
    rest = list(chunks)
    assert len(rest) == 2999 and len(produced) == 3000


def test_xlsx_is_written_in_write_only_mode(api_client_for, monkeypatch):
    PlayerFactory()
    modes = []
    original = config.exports.Workbook

    def recording(*args, **kwargs):
        modes.append(kwargs.get("write_only"))
        return original(*args, **kwargs)

    monkeypatch.setattr(config.exports, "Workbook", recording)
    answer = api_client_for("admin").get("/api/v1/exports/players/?format=xlsx")
    assert answer.status_code == 200 and modes == [True]


def test_api_filters_are_the_list_endpoints(api_client_for):
    rule = rule_make(approval_threshold="10")
    other = rule_make()
    for _ in range(2):
        player_make(metrics=LOSS)
    run_execute(run_id=run_create(rule_ids=[rule.pk, other.pk], start=False).pk, fan_out=False)
    client = api_client_for("analyst")
    text = _body(client.get(f"/api/v1/exports/rewards/?status=pending_review&rule={rule.pk}"))
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = Reward.objects.filter(status="pending_review", rule=rule)
    assert sorted(int(r["id"]) for r in rows) == sorted(expected.values_list("pk", flat=True))
    assert rows and {r["rule"] for r in rows} == {str(rule.pk)}
    decisions = list(csv.DictReader(io.StringIO(_body(
        client.get(f"/api/v1/exports/decisions/?rule={other.pk}")
    ))))  # fmt: skip
    assert decisions and {d["rule"] for d in decisions} == {str(other.pk)}
    PlayerFactory(external_id="blocked-1", status="blocked")
    players = list(csv.DictReader(io.StringIO(_body(
        client.get("/api/v1/exports/players/?status=blocked")
    ))))  # fmt: skip
    assert [p["external_id"] for p in players] == ["blocked-1"]


def test_bad_requests_get_clear_errors(api_client_for):
    client = api_client_for("admin")
    bad_filter = client.get("/api/v1/exports/rewards/?rule=abc&created_after=yesterday")
    assert bad_filter.status_code == 400
    assert bad_filter.json()["error"]["code"] == "invalid_filter"
    assert set(bad_filter.json()["error"]["details"]) == {"rule", "created_after"}
    assert client.get("/api/v1/exports/players/?format=pdf").json()["error"]["code"] == (
        "invalid_format"
    )
    assert client.get("/api/v1/exports/passwords/").status_code == 404


def test_export_is_in_the_openapi_schema(api_client_for):
    schema = api_client_for("admin").get("/api/v1/schema/?format=json")
    text = schema.content.decode()
    assert "/api/v1/exports/{kind}/" in text and "exports_download" in text


def test_admin_export_keeps_the_changelist_filters_and_search(staff_client_for):
    PlayerFactory(external_id="a-blocked", status="blocked", username="ann")
    PlayerFactory(external_id="b-blocked", status="blocked", username="bob")
    PlayerFactory(external_id="c-active", username="ann2")
    analyst = staff_client_for("analyst")
    listing = analyst.get("/admin/players/player/?status__exact=blocked").content.decode()
    assert 'href="/admin/players/player/export.csv?status__exact=blocked"' in listing
    text = _body(analyst.get("/admin/players/player/export.csv?status__exact=blocked"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["external_id"] for r in rows) == ["a-blocked", "b-blocked"]
    assert {r["username"] for r in rows} == {"a***", "b***"}  # analyst: masked
    searched = _body(analyst.get("/admin/players/player/export.csv?q=a-blocked"))
    assert [r["external_id"] for r in csv.DictReader(io.StringIO(searched))] == ["a-blocked"]


def test_admin_ledger_export_is_the_entries_of_the_listed_transactions(staff_client_for, player):
    deposit(player, "30")
    services.wallet_adjust(
        player=player, currency="EUR", amount=Decimal("2.50"), reason="fix", idempotency_key=key()
    )
    text = _body(
        staff_client_for("operator").get(
            "/admin/wallet/ledgertransaction/export.csv?kind__exact=adjustment"
        )
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["kind"] for r in rows} == {"adjustment"} and len(rows) == 2  # both legs
    assert sorted(r["amount"] for r in rows) == ["-2.50", "2.50"]


def test_analyst_sees_export_links_but_no_import(staff_client_for):
    analyst = staff_client_for("analyst")
    page = analyst.get("/admin/players/player/").content.decode()
    assert "export.xlsx" in page and "Segment distribution" in page and "import_link" not in page
    assert analyst.get("/admin/players/player/import/").status_code == 403
    operator = staff_client_for("operator")
    assert "import_link" in operator.get("/admin/players/player/").content.decode()


@pytest.mark.parametrize(
    "value,expected",
    [
        ("ok;=cmd|' /C calc'!A0", "ok;'=cmd|' /C calc'!A0"),
        ("ok,=cmd", "ok,'=cmd"),
        ("a; -1", "a; '-1"),
        ("=a;=b,=c", "'=a;'=b,'=c"),
        ("line\n=2", "line\n'=2"),
        ("5-3", "5-3"),
        ("a-b;c", "a-b;c"),
        (Decimal("-5.00"), Decimal("-5.00")),
        (-3, -3),
        (None, None),
    ],
)
def test_formula_safe_neutralises_every_part(value, expected):
    from config.spreadsheets import formula_safe

    assert formula_safe(value) == expected
