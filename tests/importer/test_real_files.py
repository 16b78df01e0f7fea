"""The real files in ../shared/data/real import with their documented mappings, and the
stored figures match an independent pandas computation over the same files."""

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.db.models import Count, Sum

from importer.models import ImportJob
from importer.reading import file_chunks, file_sniff
from players.models import Activity, Currency, Player, PlayerMetrics
from tests.importer import mappings
from tests.importer.conftest import real_file

pytestmark = [pytest.mark.realdata, pytest.mark.django_db]


def _decimal(value) -> Decimal:
    return Decimal("0") if pd.isna(value) or value == "" else Decimal(str(value))


def _stored_totals() -> dict[str, dict[str, Decimal]]:
    """Per player: turnover, wins, bet_count from the stored activity."""
    totals: dict[str, dict[str, Decimal]] = {}
    rows = Activity.objects.values("player__external_id", "type").annotate(
        amount=Sum("amount"), count=Sum("count"), n=Count("id")
    )
    for row in rows:
        player = totals.setdefault(
            row["player__external_id"], {"turnover": Decimal(0), "wins": Decimal(0), "bets": 0}
        )
        # SQLite sums decimals as floats; PostgreSQL is exact. Money has <= 8 places.
        amount = row["amount"].quantize(Decimal("1e-6"))
        if row["type"] == "bet":
            player["turnover"] += amount
            player["bets"] += row["count"]
        elif row["type"] == "win":
            player["wins"] += amount
    return totals


def _assert_metrics_match(expected: dict[str, dict]) -> None:
    stored = _stored_totals()
    assert set(stored) == set(expected)
    for player, figures in expected.items():
        assert stored[player] == figures, player
    lifetime = PlayerMetrics.objects.filter(window="lifetime").select_related("player")
    if lifetime.exists():  # the metrics stage ran (players.services.metrics_refresh)
        for metrics in lifetime:
            figures = expected[metrics.player.external_id]
            assert metrics.turnover == figures["turnover"]
            assert metrics.wins == figures["wins"]
            assert metrics.bet_count == figures["bets"]
            assert metrics.ggr == figures["turnover"] - figures["wins"]


def _bustabit_expected(path: Path) -> dict[str, dict]:
    frame = pd.read_csv(path, encoding="latin-1", dtype=str, keep_default_na=False)
    expected: dict[str, dict] = {}
    for row in frame.itertuples():
        player = expected.setdefault(
            row.Username, {"turnover": Decimal(0), "wins": Decimal(0), "bets": 0}
        )
        player["turnover"] += Decimal(row.Bet)
        player["bets"] += 1
        if row.Profit != "NA":
            player["wins"] += Decimal(row.Bet) + Decimal(row.Profit)
    return expected


def test_bustabit_rounds(run_import):
    path = real_file("bustabit.csv")
    job = run_import(path, kind="rounds", mapping=mappings.BUSTABIT_ROUNDS)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    assert job.rows_done == 50000 and job.rows_rejected == 0
    assert Currency.objects.get(code="BITS").minor_units == 2
    assert Player.objects.count() == 4147
    # The GBK/Latin-1 bytes D4 C2 are read as "ÔÂ": intact, not a replacement character.
    assert Player.objects.filter(external_id="1-11ÔÂ").exists()
    assert not Player.objects.filter(external_id__contains="\ufffd").exists()
    assert set(Activity.objects.values_list("currency_id", flat=True).distinct()) == {"BITS"}
    _assert_metrics_match(_bustabit_expected(path))


def test_bustabit_rounds_computed_payout(run_import):
    path = real_file("bustabit.csv")
    job = run_import(path, kind="rounds", mapping=mappings.BUSTABIT_ROUNDS_EXPR)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    _assert_metrics_match(_bustabit_expected(path))


def test_bwin_totals_as_period_aggregates(run_import):
    path = real_file("bwin-AnalyticDataInternetGambling.csv")
    job = run_import(path, kind="aggregates", mapping=mappings.BWIN_AGGREGATES)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = {}
    for row in frame.itertuples():
        figures = {
            "turnover": _decimal(row.FOTotalStakes) + _decimal(row.LATotalStakes),
            "wins": _decimal(row.FOTotalWinnings) + _decimal(row.LATotalWinnings),
            "bets": int(_decimal(row.FOTotalBets) + _decimal(row.LATotalBets)),
        }
        if any(figures.values()):  # a row with nothing to store stores nothing
            expected[row.USERID] = figures
    _assert_metrics_match(expected)
    # Stored at the period end: the later of the two products' last active dates.
    first = frame.iloc[0]
    bet = Activity.objects.get(player__external_id=first.USERID, type="bet")
    latest = max(first.FOLastActiveDate, first.LALastActiveDate)
    assert bet.occurred_at.date().isoformat() == latest
    assert bet.game_category == "sports"
    # Re-importing the same file stores nothing new.
    before = Activity.objects.count()
    again = run_import(path, kind="aggregates", mapping=mappings.BWIN_AGGREGATES)
    assert again.status == ImportJob.Status.SUCCEEDED
    assert again.activities_created == 0 and Activity.objects.count() == before


def _bwin_country_map() -> dict[str, str]:
    """bwin country code → ISO alpha-2, through the names in bwin-Codes.xlsx (a real xlsx)."""
    tab = Path("/usr/share/zoneinfo/iso3166.tab")
    if not tab.exists():
        pytest.skip("no /usr/share/zoneinfo/iso3166.tab to turn country names into codes")
    by_name = {}
    for line in tab.read_text().splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t")[:2]
            by_name[name.lower()] = code
    path = real_file("bwin-Codes.xlsx")
    info = file_sniff(path=str(path), sheet="Country_Codes")
    assert info.format == "xlsx" and info.sheets[0] == "Country_Codes"
    codes = pd.concat(file_chunks(path=str(path), info=info, chunk_rows=100))
    assert len(codes) == 242
    return {
        row.Country: by_name.get(str(row[2]).lower(), "")  # unknown names: no country
        for row in codes.itertuples()
    }


def test_bwin_demographics_as_players(run_import):
    path = real_file("bwin-RawDataIDemographics.csv")
    mapping = {
        **mappings.BWIN_PLAYERS,
        "country": {"column": "Country", "map": _bwin_country_map()},
    }
    job = run_import(path, kind="players", mapping=mapping)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message, job.errors)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert job.players_created == frame.UserID.nunique() == Player.objects.count()
    first = Player.objects.get(external_id=frame.UserID.iloc[0])
    assert first.registered_at.date().isoformat() == "2005-02-01"
    assert first.country == "DE"  # code 276
    assert first.currency_id == "EUR"
    assert Player.objects.filter(country="GR").count() == (frame.Country == "300").sum()


def test_bwin_files_through_the_api(api_client_operator):
    path = real_file("bwin-AnalyticDataInternetGambling.csv")
    import json

    with open(path, "rb") as handle:
        response = api_client_operator.post(
            "/api/v1/imports/",
            {"file": handle, "kind": "aggregates", "mapping": json.dumps(mappings.BWIN_AGGREGATES)},
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    job = api_client_operator.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    assert job["rows_done"] == job["rows_total"] == 40499


def test_error_report_is_written(run_import, tmp_path):
    path = real_file("bwin-RawDataIDemographics.csv")
    job = run_import(path, kind="players", mapping=mappings.BWIN_PLAYERS, on_error="skip")
    # Without a country map, bwin's codes that are ISO 3166 numeric (276) are read as
    # countries (issue 16); the others are reported, each with its row.
    assert job.status == ImportJob.Status.SUCCEEDED, (job.error_code, job.message)
    assert Player.objects.get(external_id="1324354").country == "DE"
    with job.error_report.open("r") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == job.rows_rejected
    assert {(row["code"], row["column"]) for row in rows} <= {("invalid_country", "Country")}


REAL_IMPORTS = [
    ("bustabit.csv", "rounds", mappings.BUSTABIT_ROUNDS, 50000),
    ("bwin-AnalyticDataInternetGambling.csv", "aggregates", mappings.BWIN_AGGREGATES, 40499),
    ("bwin-RawDataIDemographics.csv", "players", mappings.BWIN_PLAYERS, 42649),
]


@pytest.mark.parametrize("name,kind,mapping,rows", REAL_IMPORTS)
def test_each_real_file_through_the_admin(
    admin_client, django_capture_on_commit_callbacks, name, kind, mapping, rows
):
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    path = real_file(name)
    if kind == "players":  # bwin's numeric country codes, translated through bwin-Codes.xlsx
        mapping = {**mapping, "country": {"column": "Country", "map": _bwin_country_map()}}
    url = "/admin/importer/importjob/upload/"
    form = {"kind": kind, "on_error": "skip", "mapping": json.dumps(mapping)}
    preview = admin_client.post(url, {**form, "file": SimpleUploadedFile(name, path.read_bytes())})
    assert preview.status_code == 200
    assert "First rows as they will be read" in preview.content.decode()
    token = preview.context["form"].initial["preview_token"]
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(url, {**form, "preview_token": token, "_import": "1"})
    assert done.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.SUCCEEDED, (job.message, job.errors[:3])
    assert job.rows_done == rows and job.rows_rejected == 0


@pytest.mark.parametrize("name,kind,mapping,rows", REAL_IMPORTS)
def test_each_real_file_through_the_api(
    api_client_operator, django_capture_on_commit_callbacks, name, kind, mapping, rows
):
    import json

    path = real_file(name)
    if kind == "players":
        mapping = {**mapping, "country": {"column": "Country", "map": _bwin_country_map()}}
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = api_client_operator.post(
            "/api/v1/imports/",
            {"file": handle, "kind": kind, "mapping": json.dumps(mapping), "on_error": "reject"},
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    job = api_client_operator.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    assert job["rows_done"] == job["rows_total"] == rows and job["rows_rejected"] == 0
