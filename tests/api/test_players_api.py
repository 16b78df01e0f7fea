"""GET players/, players/{external_id}/, segments/distribution/, the schema and /healthz."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest

from players.metrics import METRIC_NAMES, METRICS, WINDOWS
from players.models import Activity, Currency, Player
from players.services import players_refresh
from rewards.models import CustomSegment, CustomSegmentMembership
from tests.factories import ActivityFactory, PlayerFactory, currency

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 12, 1, 12, tzinfo=UTC)


def act(player: Player, type_: str, amount: str, when: datetime, player_amount=None) -> Activity:
    return ActivityFactory(
        player=player,
        type=type_,
        amount=Decimal(amount),
        player_amount=Decimal(player_amount or amount),
        occurred_at=when,
    )


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [p["external_id"] for p in response.json()["results"]]


# --- the profile shape ------------------------------------------------------------------


@pytest.fixture
def spec_player() -> Player:
    """The player of the SPEC §10 example: 100 deposited, 8 bets of 10 over 2 days, 30 won."""
    player = PlayerFactory(
        external_id="p-1", country="DE", registered_at=datetime(2026, 10, 22, 10, tzinfo=UTC)
    )
    act(player, "deposit", "100.00", datetime(2026, 11, 28, 9, tzinfo=UTC))
    for i in range(8):
        act(player, "bet", "10.00", datetime(2026, 11, 29 + i % 2, 10, i, tzinfo=UTC))
    act(player, "win", "30.00", datetime(2026, 11, 30, 11, tzinfo=UTC))
    players_refresh(player_ids=[player.pk], as_of=AS_OF)
    return player


SPEC_METRICS = {
    "deposits": "100.00",
    "deposit_count": 1,
    "withdrawals": "0.00",
    "withdrawal_count": 0,
    "net_deposits": "100.00",
    "turnover": "80.00",
    "bet_count": 8,
    "wins": "30.00",
    "ggr": "50.00",
    "bonus_cost": "0.00",
    "ngr": "50.00",
    "player_net": "-50.00",
    "net_loss": "50.00",
    "rtp": "0.375",
    "avg_bet": "10.00",
    "active_days": 2,
    "days_since_last_bet": 1,
    "days_since_last_deposit": 3,
    "days_since_registration": 40,
    "bonus_granted": "0.00",
    "bonus_to_deposit_ratio": "0",
}


def test_player_profile_has_the_spec_shape(service_client, spec_player):
    body = service_client.get("/api/v1/players/p-1/").json()
    assert list(body) == [
        "external_id",
        "status",
        "currency",
        "country",
        "registered_at",
        "segment",
        "custom_segments",
        "risk_score",
        "metrics",
    ]
    assert datetime.fromisoformat(body.pop("registered_at")) == spec_player.registered_at
    metrics = body.pop("metrics")
    assert body == {
        "external_id": "p-1",
        "status": "active",
        "currency": "EUR",
        "country": "DE",
        "segment": "breakeven",  # player_net −50 is within the band of 50
        "custom_segments": [],
        "risk_score": 0,
    }
    assert list(metrics) == list(WINDOWS)
    for window in WINDOWS:  # everything happened in the last 7 days
        assert list(metrics[window]) == list(METRIC_NAMES)
        assert metrics[window] == SPEC_METRICS


def test_metric_json_types_follow_the_catalogue(service_client, spec_player):
    metrics = service_client.get("/api/v1/players/p-1/").json()["metrics"]
    for window in WINDOWS:
        for metric in METRICS:
            value = metrics[window][metric.name]
            if metric.kind in {"count", "days"}:
                assert isinstance(value, int) and not isinstance(value, bool), metric.name
            else:
                assert isinstance(value, str), metric.name
                Decimal(value)


def test_rtp_and_averages_are_null_without_turnover(service_client):
    player = PlayerFactory(external_id="depositor")
    act(player, "deposit", "20.00", AS_OF - timedelta(days=1))
    players_refresh(player_ids=[player.pk], as_of=AS_OF)
    lifetime = service_client.get("/api/v1/players/depositor/").json()["metrics"]["lifetime"]
    assert lifetime["rtp"] is None
    assert lifetime["avg_bet"] is None
    assert lifetime["days_since_last_bet"] is None
    assert lifetime["turnover"] == "0.00"
    assert lifetime["bet_count"] == 0
    assert lifetime["bonus_to_deposit_ratio"] == "0"


def test_player_without_stored_metrics_shows_zeros(service_client):
    PlayerFactory(external_id="fresh")
    body = service_client.get("/api/v1/players/fresh/").json()
    assert body["segment"] == "new"
    for window in WINDOWS:
        assert body["metrics"][window]["turnover"] == "0.00"
        assert body["metrics"][window]["bet_count"] == 0
        assert body["metrics"][window]["rtp"] is None


def test_amounts_use_the_player_currency_minor_units(service_client):
    player = PlayerFactory(external_id="satoshi", currency=currency("BTC"))
    act(player, "deposit", "0.5", AS_OF - timedelta(days=1))
    act(player, "bet", "0.00000001", AS_OF - timedelta(days=1))
    players_refresh(player_ids=[player.pk], as_of=AS_OF)
    lifetime = service_client.get("/api/v1/players/satoshi/").json()["metrics"]["lifetime"]
    assert lifetime["deposits"] == "0.50000000"
    assert lifetime["turnover"] == "0.00000001"
    assert lifetime["withdrawals"] == "0.00000000"


def test_custom_segments_are_listed_and_filterable(service_client, spec_player):
    other = PlayerFactory()
    for name in ("weekend-slots", "a-first"):
        segment = CustomSegment.objects.create(name=name, expression="true")
        CustomSegmentMembership.objects.create(segment=segment, player=spec_player)
    body = service_client.get("/api/v1/players/p-1/").json()
    assert body["custom_segments"] == ["a-first", "weekend-slots"]
    assert ids(service_client.get("/api/v1/players/?custom_segment=weekend-slots")) == ["p-1"]
    assert other.external_id not in ids(
        service_client.get("/api/v1/players/?custom_segment=a-first")
    )


@pytest.mark.parametrize(
    "external_id", ["john.doe@casino.example", "a.b.c", "x+y", "user:42", "ü-spieler", "x.json"]
)
def test_external_ids_with_dots_and_at_signs(service_client, external_id):
    PlayerFactory(external_id=external_id)
    response = service_client.get(f"/api/v1/players/{quote(external_id)}/")
    assert response.status_code == 200
    assert response.json()["external_id"] == external_id


# --- the list: pagination and filters ----------------------------------------------------


def test_pagination_with_page_size(service_client):
    for i in range(7):
        PlayerFactory(external_id=f"pp-{i}")
    first = service_client.get("/api/v1/players/?page_size=3").json()
    assert first["count"] == 7
    assert [p["external_id"] for p in first["results"]] == ["pp-0", "pp-1", "pp-2"]
    assert "page=2" in first["next"] and first["previous"] is None
    last = service_client.get("/api/v1/players/?page_size=3&page=3").json()
    assert [p["external_id"] for p in last["results"]] == ["pp-6"]
    assert last["next"] is None


def test_page_size_is_at_most_500(service_client):
    eur = currency("EUR")
    Player.objects.bulk_create(
        Player(external_id=f"bulk-{i}", currency=eur, registered_at=AS_OF) for i in range(501)
    )
    body = service_client.get("/api/v1/players/?page_size=10000").json()
    assert body["count"] == 501
    assert len(body["results"]) == 500
    assert len(service_client.get("/api/v1/players/").json()["results"]) == 50  # default


@pytest.fixture
def cast() -> dict[str, Player]:
    """A: losing (old big bet), B: winning USD player in SE, blocked; C: new, self-excluded."""
    a = PlayerFactory(external_id="A", country="DE")
    act(a, "bet", "1000", AS_OF - timedelta(days=40))
    act(a, "bet", "100", AS_OF - timedelta(days=2))
    b = PlayerFactory(external_id="B", country="SE", currency=currency("USD"), status="blocked")
    act(b, "bet", "500", AS_OF - timedelta(days=1))
    act(b, "win", "700", AS_OF - timedelta(days=1))
    c = PlayerFactory(external_id="C", country="de", status="self_excluded")
    players_refresh(as_of=AS_OF)
    return {"A": a, "B": b, "C": c}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["A", "B", "C"]),
        ("segment=losing", ["A"]),
        ("segment=losing&segment=winning", ["A", "B"]),
        ("segment=new", ["C"]),
        ("segment=vip", []),
        ("status=blocked", ["B"]),
        ("status=active&status=self_excluded", ["A", "C"]),
        ("country=de", ["A", "C"]),
        ("country=SE", ["B"]),
        ("currency=usd", ["B"]),
        ("currency=EUR", ["A", "C"]),
        ("min_turnover_30d=100", ["A", "B"]),
        ("min_turnover_30d=100.01", ["B"]),
        ("max_turnover_30d=100", ["A", "C"]),
        ("min_turnover_lifetime=1000", ["A"]),
        ("min_turnover_30d=1000", []),
        ("min_turnover_30d=50&max_turnover_7d=200", ["A"]),
        ("max_player_net_lifetime=-1", ["A"]),
        ("min_player_net_lifetime=0", ["B", "C"]),
        ("min_bet_count_lifetime=2", ["A"]),
        ("min_rtp_lifetime=1", ["B"]),
        ("max_days_since_last_bet_lifetime=1", ["B"]),
        ("min_days_since_registration_7d=0", ["A", "B", "C"]),
        ("segment=losing&min_turnover_7d=1", ["A"]),
        ("segment=winning&status=active", []),
    ],
)
def test_filters(service_client, cast, query, expected):
    assert ids(service_client.get(f"/api/v1/players/?{query}")) == expected


# --- segment distribution, schema, health ----------------------------------------------


def test_segment_distribution_counts_and_sums_in_eur(service_client, cast):
    body = service_client.get("/api/v1/segments/distribution/").json()
    assert body["window"] == "30d"
    assert body["currency"] == "EUR"
    datetime.fromisoformat(body["as_of"])
    rows = {row["segment"]: row for row in body["segments"]}
    assert [row["segment"] for row in body["segments"]] == [
        "new",
        "breakeven",
        "losing",
        "winning",
        "vip",
    ]
    assert rows["losing"] == {
        "segment": "losing",
        "players": 1,
        "turnover": "100.00",
        "ggr": "100.00",
        "ngr": "100.00",
        "bonus_cost": "0.00",
    }
    assert rows["winning"] == {  # B plays in USD: 500 × 0.92 and −200 × 0.92
        "segment": "winning",
        "players": 1,
        "turnover": "460.00",
        "ggr": "-184.00",
        "ngr": "-184.00",
        "bonus_cost": "0.00",
    }
    assert rows["new"]["players"] == 1 and rows["new"]["turnover"] == "0.00"
    assert rows["vip"]["players"] == 0
    lifetime = service_client.get("/api/v1/segments/distribution/?window=lifetime").json()
    assert {r["segment"]: r["turnover"] for r in lifetime["segments"]}["losing"] == "1100.00"


def test_openapi_schema(service_client, client):
    assert client.get("/api/v1/schema/?format=json").status_code in (401, 403)  # anonymous
    response = service_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/events/",
        "/api/v1/players/",
        "/api/v1/players/{external_id}/",
        "/api/v1/segments/distribution/",
    ):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/events/"]
    assert service_client.get("/api/v1/docs/").status_code == 200


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


def test_distribution_with_a_currency_without_rate(service_client, admin_client):
    xbt = Currency.objects.create(code="XBT", minor_units=8)  # staff forgot its rate
    PlayerFactory(currency=xbt)
    players_refresh(as_of=AS_OF)
    response = service_client.get("/api/v1/segments/distribution/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_exchange_rate"
    page = admin_client.get("/admin/players/player/distribution/")
    assert page.status_code == 200
    assert "No exchange rate for XBT" in page.content.decode()
