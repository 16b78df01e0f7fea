"""Every metric of the catalogue against hand-computed values (SPEC §4).

The activity is written directly (amounts already in the player's currency) at fixed times and
the refresh runs at a fixed `as_of`, so each expected figure below can be checked on paper.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from players.metrics import METRIC_NAMES, WINDOWS
from players.models import Activity, BonusActivity, ExchangeRate, Player, PlayerMetrics
from players.services import metrics_refresh
from tests.factories import ActivityFactory, PlayerFactory, currency
from wallet.services import wallet_adjust

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 30d starts 2026-11-01 12:00, 7d 11-24 12:00
REGISTERED = datetime(2026, 1, 1, tzinfo=UTC)  # 334 days before AS_OF
D = Decimal


def at(day: str, time: str = "10:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}+00:00")


def act(player: Player, type_: str, amount: str, when: datetime, count: int = 1) -> Activity:
    return ActivityFactory(
        player=player,
        type=type_,
        amount=D(amount),
        player_amount=D(amount),
        occurred_at=when,
        count=count,
    )


def bonus(player: Player, kind: str, amount: str, when: datetime) -> BonusActivity:
    return BonusActivity.objects.create(
        player=player, kind=kind, player_amount=D(amount), occurred_at=when
    )


def metrics_of(player: Player) -> dict[str, dict]:
    rows = PlayerMetrics.objects.filter(player=player)
    return {row.window: {name: getattr(row, name) for name in METRIC_NAMES} for row in rows}


def zeros(**overrides) -> dict:
    """An empty window: money and counts 0, undefined ratios and day counts missing."""
    values = dict.fromkeys(METRIC_NAMES, D(0))
    values.update(
        deposit_count=0,
        withdrawal_count=0,
        bet_count=0,
        active_days=0,
        rtp=None,
        avg_bet=None,
        days_since_last_bet=None,
        days_since_last_deposit=None,
        bonus_to_deposit_ratio=None,
        days_since_registration=334,
    )
    values.update(overrides)
    return values


@pytest.fixture
def player() -> Player:
    """A player with activity in every window, aggregates, a rollback and a chargeback."""
    p = PlayerFactory(registered_at=REGISTERED)
    # lifetime only
    act(p, "deposit", "500", at("2026-06-01"))
    act(p, "bet", "200", at("2026-06-01", "11:00:00"))
    act(p, "win", "50", at("2026-06-01", "12:00:00"))
    act(p, "withdrawal", "100", at("2026-06-02"))
    bonus(p, "granted", "100", at("2026-05-01"))
    bonus(p, "converted", "5", at("2026-05-01"))
    # 30d (and lifetime)
    act(p, "deposit", "300", at("2026-11-10", "09:00:00"))
    act(p, "chargeback", "100", at("2026-11-11"))
    act(p, "bet", "150", at("2026-11-10"), count=3)  # a daily aggregate row: 3 bets
    act(p, "rollback", "20", at("2026-11-10", "10:05:00"))
    act(p, "win", "400", at("2026-11-11", "18:00:00"))
    act(p, "bet", "3", at("2026-11-24", "11:59:59"))  # one second before the 7d window
    bonus(p, "cash_paid", "10", at("2026-11-05"))
    # 7d (and 30d and lifetime)
    act(p, "bet", "7", at("2026-11-24", "12:00:00"))  # exactly at the 7d window start
    act(p, "deposit", "50", at("2026-11-28", "08:00:00"))
    act(p, "bet", "30", at("2026-11-28", "09:00:00"))
    act(p, "bet", "20", at("2026-11-28", "23:59:59"))  # same UTC day: one active day
    act(p, "bet", "10", at("2026-11-30", "00:01:00"))
    act(p, "win", "15", at("2026-11-30", "00:02:00"))
    bonus(p, "granted", "40", at("2026-11-29"))
    bonus(p, "converted", "25", at("2026-11-29"))
    # after as_of: ignored by every window
    act(p, "bet", "1000", AS_OF + timedelta(seconds=1))
    act(p, "deposit", "1000", AS_OF + timedelta(seconds=1))
    bonus(p, "granted", "999", AS_OF + timedelta(seconds=1))
    return p


EXPECTED = {
    "lifetime": {
        "deposits": D("750"),  # 500 + 300 + 50 − 100 chargeback
        "deposit_count": 2,  # 3 deposits − 1 chargeback
        "withdrawals": D("100"),
        "withdrawal_count": 1,
        "net_deposits": D("650"),
        "turnover": D("400"),  # 200 + 150 + 3 + 7 + 30 + 20 + 10 − 20 rolled back
        "bet_count": 8,  # 1 + 3 + 1 + 1 + 1 + 1 + 1 − 1
        "wins": D("465"),
        "ggr": D("-65"),
        "bonus_cost": D("40"),  # converted 5 + 25, cash paid 10
        "ngr": D("-105"),
        "player_net": D("65"),
        "net_loss": D("0"),  # the player is winning
        "rtp": D("1.1625"),
        "avg_bet": D("50"),
        "active_days": 5,  # 06-01, 11-10, 11-24, 11-28, 11-30
        "days_since_last_bet": 1,
        "days_since_last_deposit": 3,
        "days_since_registration": 334,
        "bonus_granted": D("140"),
        "bonus_to_deposit_ratio": D("0.186667"),  # 140 / 750
    },
    "30d": {
        "deposits": D("250"),
        "deposit_count": 1,
        "withdrawals": D("0"),
        "withdrawal_count": 0,
        "net_deposits": D("250"),
        "turnover": D("200"),
        "bet_count": 7,
        "wins": D("415"),
        "ggr": D("-215"),
        "bonus_cost": D("35"),
        "ngr": D("-250"),
        "player_net": D("215"),
        "net_loss": D("0"),
        "rtp": D("2.075"),
        "avg_bet": D("28.57142857"),  # 200 / 7 at 8 places
        "active_days": 4,
        "days_since_last_bet": 1,
        "days_since_last_deposit": 3,
        "days_since_registration": 334,
        "bonus_granted": D("40"),
        "bonus_to_deposit_ratio": D("0.16"),
    },
    "7d": {
        "deposits": D("50"),
        "deposit_count": 1,
        "withdrawals": D("0"),
        "withdrawal_count": 0,
        "net_deposits": D("50"),
        "turnover": D("67"),
        "bet_count": 4,
        "wins": D("15"),
        "ggr": D("52"),
        "bonus_cost": D("25"),
        "ngr": D("27"),
        "player_net": D("-52"),
        "net_loss": D("52"),
        "rtp": D("0.223881"),  # 15 / 67 at 6 places
        "avg_bet": D("16.75"),
        "active_days": 3,
        "days_since_last_bet": 1,
        "days_since_last_deposit": 3,
        "days_since_registration": 334,
        "bonus_granted": D("40"),
        "bonus_to_deposit_ratio": D("0.8"),
    },
}


def test_expected_values_cover_the_whole_catalogue():
    for window in WINDOWS:
        assert tuple(EXPECTED[window]) == METRIC_NAMES


@pytest.mark.parametrize("window", WINDOWS)
def test_every_metric_matches_hand_computed_values(player, window):
    metrics_refresh(as_of=AS_OF)
    assert metrics_of(player)[window] == EXPECTED[window]


def test_one_row_per_window_with_as_of(player):
    written = metrics_refresh(as_of=AS_OF)
    rows = PlayerMetrics.objects.filter(player=player)
    assert written == 3
    assert sorted(r.window for r in rows) == sorted(WINDOWS)
    assert {r.as_of for r in rows} == {AS_OF}


def test_refresh_is_an_upsert(player):
    metrics_refresh(as_of=AS_OF)
    act(player, "bet", "33", at("2026-11-30", "08:00:00"))
    metrics_refresh(as_of=AS_OF)
    assert PlayerMetrics.objects.filter(player=player).count() == 3
    assert metrics_of(player)["7d"]["turnover"] == D("100")
    assert metrics_of(player)["lifetime"]["bet_count"] == 9


def test_empty_windows_give_zeros_and_missing_values():
    p = PlayerFactory(registered_at=REGISTERED)
    act(p, "deposit", "100", at("2026-09-01"))
    act(p, "bet", "50", at("2026-09-01", "11:00:00"))
    act(p, "win", "20", at("2026-09-01", "12:00:00"))
    bonus(p, "granted", "10", at("2026-09-01"))
    metrics_refresh(as_of=AS_OF)
    got = metrics_of(p)
    assert got["30d"] == zeros()
    assert got["7d"] == zeros()
    assert got["lifetime"]["turnover"] == D("50")
    assert got["lifetime"]["days_since_last_bet"] == 91  # 2026-09-01 → 2026-12-01


def test_player_without_any_activity_gets_rows_of_zeros():
    p = PlayerFactory(registered_at=REGISTERED)
    metrics_refresh(as_of=AS_OF)
    got = metrics_of(p)
    assert set(got) == set(WINDOWS)
    for window in WINDOWS:
        assert got[window] == zeros()


def test_only_a_deposit_gives_missing_rtp_and_avg_bet_but_a_ratio():
    p = PlayerFactory(registered_at=REGISTERED)
    act(p, "deposit", "80", at("2026-11-30"))
    bonus(p, "granted", "20", at("2026-11-30"))
    metrics_refresh(as_of=AS_OF)
    lifetime = metrics_of(p)["lifetime"]
    assert lifetime["rtp"] is None
    assert lifetime["avg_bet"] is None
    assert lifetime["bonus_to_deposit_ratio"] == D("0.25")
    assert lifetime["days_since_last_deposit"] == 1
    assert lifetime["days_since_last_bet"] is None


def test_full_chargeback_and_full_rollback_cancel_out():
    p = PlayerFactory(registered_at=REGISTERED)
    act(p, "deposit", "60", at("2026-11-30"))
    act(p, "chargeback", "60", at("2026-11-30", "11:00:00"))
    act(p, "bet", "25", at("2026-11-30", "12:00:00"))
    act(p, "rollback", "25", at("2026-11-30", "12:01:00"))
    metrics_refresh(as_of=AS_OF)
    lifetime = metrics_of(p)["lifetime"]
    assert (lifetime["deposits"], lifetime["deposit_count"]) == (D(0), 0)
    assert (lifetime["turnover"], lifetime["bet_count"]) == (D(0), 0)
    assert lifetime["rtp"] is None
    assert lifetime["avg_bet"] is None
    assert lifetime["bonus_to_deposit_ratio"] is None


def test_aggregate_rows_count_as_many_events():
    p = PlayerFactory(registered_at=REGISTERED)
    act(p, "bet", "310.50", at("2026-11-30"), count=42)
    act(p, "deposit", "200", at("2026-11-30"), count=4)
    act(p, "withdrawal", "90", at("2026-11-30"), count=3)
    metrics_refresh(as_of=AS_OF)
    m = metrics_of(p)["7d"]
    assert (m["turnover"], m["bet_count"]) == (D("310.50"), 42)
    assert m["avg_bet"] == D("7.39285714")  # 310.50 / 42
    assert (m["deposits"], m["deposit_count"]) == (D(200), 4)
    assert (m["withdrawals"], m["withdrawal_count"]) == (D(90), 3)
    assert m["active_days"] == 1


def test_days_are_utc_calendar_days():
    p = PlayerFactory(registered_at=at("2026-11-30", "23:59:00"))
    act(p, "bet", "5", at("2026-11-30", "23:59:59"))
    act(p, "deposit", "5", at("2026-12-01", "00:00:00"))
    metrics_refresh(as_of=at("2026-12-01", "00:00:01"))
    m = metrics_of(p)["lifetime"]
    assert m["days_since_last_bet"] == 1  # a second ago, but yesterday
    assert m["days_since_last_deposit"] == 0
    assert m["days_since_registration"] == 1


def test_incremental_refresh_touches_only_the_given_players():
    a, b = PlayerFactory(registered_at=REGISTERED), PlayerFactory(registered_at=REGISTERED)
    act(a, "bet", "10", at("2026-11-30"))
    act(b, "bet", "20", at("2026-11-30"))
    assert metrics_refresh(player_ids=[a.pk], as_of=AS_OF) == 3
    assert not PlayerMetrics.objects.filter(player=b).exists()
    assert metrics_of(a)["lifetime"]["turnover"] == D(10)

    act(a, "bet", "5", at("2026-11-30", "11:00:00"))
    act(b, "bet", "5", at("2026-11-30", "11:00:00"))
    metrics_refresh(player_ids=[b.pk], as_of=AS_OF)
    assert metrics_of(a)["lifetime"]["turnover"] == D(10)  # not refreshed: stale on purpose
    assert metrics_of(b)["lifetime"]["turnover"] == D(25)
    assert metrics_refresh(player_ids=[], as_of=AS_OF) == 0


def test_as_of_backfill_sees_only_what_had_happened(player):
    as_of = at("2026-11-15", "12:00:00")  # 30d from 10-16 12:00, 7d from 11-08 12:00
    metrics_refresh(as_of=as_of)
    got = metrics_of(player)
    assert {r.as_of for r in PlayerMetrics.objects.filter(player=player)} == {as_of}
    assert got["lifetime"]["deposits"] == D("700")  # 500 + 300 − 100
    assert got["lifetime"]["turnover"] == D("330")  # 200 + 150 − 20
    assert got["7d"]["turnover"] == D("130")
    assert got["7d"]["bet_count"] == 2
    assert got["7d"]["wins"] == D("400")
    assert got["7d"]["bonus_cost"] == D(0)  # the cash reward of 11-05 is before 11-08
    assert got["30d"]["bonus_cost"] == D("10")
    assert got["lifetime"]["days_since_last_bet"] == 5
    assert got["lifetime"]["days_since_registration"] == 318


# --- multi-currency: events through the API are converted at the rate in force -----------


@pytest.fixture
def usd_rates():
    usd = currency("USD")
    ExchangeRate.objects.create(currency=usd, valid_from=at("2026-11-01", "00:00:00"), rate="0.90")
    ExchangeRate.objects.create(currency=usd, valid_from=at("2026-11-15", "00:00:00"), rate="0.80")
    return usd


def event(external_id: str, player_id: str, type_: str, amount: str, cur: str, when: str) -> dict:
    return {
        "external_id": external_id,
        "player_id": player_id,
        "type": type_,
        "amount": amount,
        "currency": cur,
        "occurred_at": when,
    }


def test_foreign_currency_events_convert_at_the_rate_in_force(service_client, usd_rates):
    eur_player = PlayerFactory(external_id="eur-1", registered_at=REGISTERED)
    # cash for the EUR bet; an adjustment is no activity, so it leaves the metrics alone
    wallet_adjust(
        player=eur_player, currency="EUR", amount=D("5.00"), reason="test", idempotency_key="f"
    )
    events = [
        event("m1", "eur-1", "win", "10.00", "USD", "2026-10-01T10:00:00Z"),  # seed rate 0.92
        event("m2", "eur-1", "deposit", "100.00", "USD", "2026-11-10T10:00:00Z"),  # 0.90
        event("m3", "eur-1", "bet", "50.00", "USD", "2026-11-20T10:00:00Z"),  # 0.80
        event("m4", "eur-1", "bet", "5.00", "EUR", "2026-11-20T11:00:00Z"),
        event("m5", "eur-1", "bet", "50.00", "USD", "2026-11-15T00:00:00Z"),  # new rate: 0.80
    ]
    response = service_client.post("/api/v1/events/", {"events": events}, format="json")
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 5
    amounts = dict(Activity.objects.values_list("external_id", "player_amount"))
    assert amounts == {"m1": D("9.2"), "m2": D("90"), "m3": D("40"), "m4": D("5"), "m5": D("40")}
    assert Activity.objects.get(external_id="m2").amount == D("100")  # original kept

    metrics_refresh(as_of=AS_OF)
    lifetime = metrics_of(eur_player)["lifetime"]
    assert lifetime["deposits"] == D("90")
    assert lifetime["turnover"] == D("85")
    assert lifetime["wins"] == D("9.2")
    assert lifetime["ggr"] == D("75.8")
    assert metrics_of(eur_player)["30d"]["wins"] == D(0)


def test_cross_rate_between_two_foreign_currencies(service_client, usd_rates):
    gbp = currency("GBP")  # seed rate 1.17
    PlayerFactory(external_id="gbp-1", currency=gbp, registered_at=REGISTERED)
    response = service_client.post(
        "/api/v1/events/",
        event("x1", "gbp-1", "deposit", "117.00", "USD", "2026-11-10T10:00:00Z"),
        format="json",
    )
    assert response.json()["results"][0]["status"] == "applied"
    assert Activity.objects.get(external_id="x1").player_amount == D("90")  # 117 × 0.90 / 1.17


def test_new_player_from_an_event_takes_the_event_currency(service_client):
    service_client.post(
        "/api/v1/events/",
        event("n1", "new-usd", "deposit", "20.00", "USD", "2026-11-10T10:00:00Z"),
        format="json",
    )
    player = Player.objects.get(external_id="new-usd")
    assert player.currency_id == "USD"
    assert Activity.objects.get(external_id="n1").player_amount == D("20")


def test_event_without_a_rate_in_force_is_rejected(service_client):
    PlayerFactory(external_id="eur-2", registered_at=REGISTERED)
    response = service_client.post(
        "/api/v1/events/",
        event("r1", "eur-2", "deposit", "20.00", "USD", "1999-06-01T10:00:00Z"),
        format="json",
    )
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert result["reason"]["code"] == "no_exchange_rate"
    assert not Activity.objects.filter(external_id="r1").exists()
