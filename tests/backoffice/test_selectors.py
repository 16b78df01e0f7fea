"""The dashboard's selectors against numbers computed by hand (tests/backoffice/conftest.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from importer.selectors import import_jobs_summary
from players.models import ExchangeRate
from players.selectors import bonus_cost_share_by_day, rates_to_reporting, segment_distribution
from rewards.selectors import review_queue_summary, rewards_by_rule_and_day
from safety.selectors import open_flags_by_signal
from tests.backoffice.conftest import NOW
from tests.factories import ActivityFactory
from webhooks.selectors import endpoints_disabled


def test_rates_to_reporting_in_one_query(casino):
    with CaptureQueriesContext(connection) as queries:
        rates = rates_to_reporting(at=NOW)
    assert len(queries) == 1
    assert rates["EUR"] == Decimal(1)
    assert rates["USD"] == Decimal("0.92")
    assert rates["BTC"] == Decimal(60000)
    assert rates["XTS"] is None


def test_rates_are_relative_to_the_reporting_currency(casino, settings):
    settings.PITBOSS = {**settings.PITBOSS, "REPORTING_CURRENCY": "USD"}
    rates = rates_to_reporting(at=NOW)
    assert rates["USD"] == Decimal(1)
    assert rates["EUR"] == Decimal(1) / Decimal("0.92")
    ExchangeRate.objects.filter(currency="USD").delete()
    assert set(rates_to_reporting(at=NOW).values()) == {Decimal(1), None}


def test_segment_distribution_counts_sums_and_names_the_rateless_currency(filled):
    with CaptureQueriesContext(connection) as queries:
        distribution = segment_distribution(window="30d")
    assert len(queries) == 2  # the grouped players × metrics, the rates
    rows = {row["segment"]: row for row in distribution["segments"]}
    assert rows["losing"] == {
        "segment": "losing", "players": 1, "turnover": "100.00", "ggr": "40.00", "ngr": "30.00",
        "bonus_cost": "10.00",
    }  # fmt: skip
    # USD at 0.92: 1000 → 920, 200 → 184, 150 → 138, 50 → 46
    assert rows["vip"] == {
        "segment": "vip", "players": 1, "turnover": "920.00", "ggr": "184.00", "ngr": "138.00",
        "bonus_cost": "46.00",
    }  # fmt: skip
    # the XTS player counts, its money does not (no rate), and XTS is named
    assert rows["new"]["players"] == 1
    assert rows["new"]["turnover"] == "0.00"
    assert rows["winning"]["players"] == 0
    assert distribution["currencies_left_out"] == ["XTS"]


def test_bonus_cost_share_of_ggr_per_day(filled):
    with CaptureQueriesContext(connection) as queries:
        share = bonus_cost_share_by_day(days=3, now=NOW)
    assert len(queries) == 3  # the roll-up cut-off, the UNION ALL of the daily sums, the rates
    assert share["currency"] == "EUR"
    assert share["currencies_left_out"] == ["XTS"]
    days = {row["day"]: row for row in share["days"]}
    assert list(days) == ["2026-11-18", "2026-11-19", "2026-11-20"]
    assert days["2026-11-18"] == {
        "day": "2026-11-18",
        "ggr": "0.00",
        "bonus_cost": "0.00",
        "share": None,
    }
    # 19th: EUR 100 − 60 − 10 = 30, USD 50 × 0.92 = 46 → 76; bonus 7.60 USD × 0.92 = 6.992 + 1
    assert days["2026-11-19"]["ggr"] == "76.00"
    assert days["2026-11-19"]["bonus_cost"] == "7.99"
    assert days["2026-11-19"]["share"] == str((Decimal("7.992") / 76).quantize(Decimal("0.0001")))
    # 20th: the house lost 20: no share of a loss
    assert days["2026-11-20"]["ggr"] == "-20.00"
    assert days["2026-11-20"]["share"] is None


def test_rewards_per_rule_per_day(filled):
    with CaptureQueriesContext(connection) as queries:
        rewards = rewards_by_rule_and_day(days=3, now=NOW)
    assert len(queries) == 3  # the roll-up's cut-off (none yet), the grouped rewards, the names
    assert rewards["days"] == ["2026-11-18", "2026-11-19", "2026-11-20"]
    (welcome, weekly) = rewards["rules"]  # the larger cost first
    assert welcome["name"] == "welcome"
    assert welcome["issued"] == [1, 0, 0]
    assert welcome["cost"] == ["100.00", "0.00", "0.00"]
    assert (welcome["issued_total"], welcome["cost_total"]) == (1, "100.00")
    # pending and rejected rewards are not issued
    assert weekly["name"] == "weekly-cashback"
    assert weekly["issued"] == [0, 2, 1]
    assert weekly["cost"] == ["0.00", "15.00", "20.00"]
    assert (weekly["issued_total"], weekly["cost_total"]) == (3, "35.00")


def test_rewards_over_a_longer_range_include_older_rewards(filled):
    rewards = rewards_by_rule_and_day(days=30, now=NOW)
    assert len(rewards["days"]) == 30
    welcome = next(rule for rule in rewards["rules"] if rule["name"] == "welcome")
    assert welcome["issued_total"] == 2
    assert welcome["cost_total"] == "400.00"


@pytest.mark.parametrize("days", [3, 30])
def test_rewards_per_rule_per_day_read_from_the_roll_up_are_the_same(filled, days):
    """Complete days from the daily roll-up, today live: the same figures as all live."""
    from players.services import activity_days_refresh
    from rewards.models import RewardDay

    live = rewards_by_rule_and_day(days=days, now=NOW)
    activity_days_refresh(now=NOW)
    assert RewardDay.objects.filter(day="2026-11-19").count() == 1  # weekly: 2 rewards
    with CaptureQueriesContext(connection) as queries:
        rolled = rewards_by_rule_and_day(days=days, now=NOW)
    assert len(queries) == 3  # the cut-off, roll-up + live part in one UNION ALL, the names
    assert rolled == live


def test_a_reward_approved_after_the_roll_up_counts_once_on_its_day(filled):
    from players.services import activity_days_refresh
    from rewards.models import Reward

    activity_days_refresh(now=NOW)
    before = rewards_by_rule_and_day(days=3, now=NOW)
    weekly = next(rule for rule in before["rules"] if rule["name"] == "weekly-cashback")
    assert weekly["issued"] == [0, 2, 1]
    # created yesterday, waiting for review when the roll-up was built, approved since
    late = Reward.objects.filter(status="pending_review", amount=Decimal("70")).get()
    Reward.objects.filter(pk=late.pk).update(
        status="issued", created_at=NOW - timedelta(days=1), decided_at=NOW
    )
    after = rewards_by_rule_and_day(days=3, now=NOW)
    weekly = next(rule for rule in after["rules"] if rule["name"] == "weekly-cashback")
    assert weekly["issued"] == [0, 3, 1]
    assert weekly["cost"] == ["0.00", "85.00", "20.00"]
    # and the next roll-up holds it on its day, still once
    activity_days_refresh(now=NOW + timedelta(minutes=1))
    assert rewards_by_rule_and_day(days=3, now=NOW) == after


def test_review_queue_size_and_age(filled):
    summary = review_queue_summary(now=NOW)
    assert summary["size"] == 2
    assert summary["oldest_at"] == NOW - timedelta(hours=5)
    assert summary["oldest_age_hours"] == 5.0


def test_review_queue_empty(casino):
    assert review_queue_summary(now=NOW) == {"size": 0, "oldest_at": None, "oldest_age_hours": None}


def test_open_flags_by_signal(filled):
    flags = open_flags_by_signal()
    assert [(f["signal"], f["open"]) for f in flags] == [("shared_device", 3), ("chargeback", 1)]


def test_import_jobs_running_queued_and_recently_failed(filled):
    summary = import_jobs_summary(now=NOW)
    assert {k: summary[k] for k in ("running", "queued", "failed")} == {
        "running": 1,
        "queued": 2,
        "failed": 1,  # the one of ten days ago is past the 7-day window
    }
    assert summary["last_failed_at"] == NOW - timedelta(days=1)


def test_disabled_endpoints(filled):
    assert [(e["url"], e["disabled_reason"]) for e in endpoints_disabled()] == [
        ("https://gone.example.test/hook", "410 Gone.")
    ]


@pytest.mark.postgres
def test_days_follow_the_reporting_time_zone(filled, settings):
    # 2026-11-19 23:30 UTC is the 20th in Helsinki (UTC+2)
    settings.PITBOSS = {**settings.PITBOSS, "REPORTING_TIME_ZONE": "Europe/Helsinki"}
    from tests.factories import ActivityFactory

    ActivityFactory(
        player=filled["eur"], type="bet", amount=Decimal("5"),
        occurred_at=NOW.replace(day=19, hour=23, minute=30),
    )  # fmt: skip
    days = {row["day"]: row for row in bonus_cost_share_by_day(days=3, now=NOW)["days"]}
    assert days["2026-11-20"]["ggr"] == "-15.00"


def test_the_daily_roll_up_holds_each_days_sums_per_currency(filled):
    from players.models import ActivityDay
    from players.services import activity_days_refresh

    assert activity_days_refresh(now=NOW) == 4  # 19th EUR, USD, XTS; 10th EUR; today is live
    rows = {
        (row.day.isoformat(), row.currency_id): (row.ggr, row.bonus_cost)
        for row in ActivityDay.objects.all()
    }
    assert rows == {
        ("2026-11-19", "EUR"): (Decimal(30), Decimal(1)),
        ("2026-11-19", "USD"): (Decimal(50), Decimal("7.60")),
        ("2026-11-19", "XTS"): (Decimal(999), Decimal(0)),
        ("2026-11-10", "EUR"): (Decimal(1000), Decimal(0)),
    }
    assert {row.covered_until for row in ActivityDay.objects.all()} == {NOW.replace(hour=0)}


def test_the_share_reads_past_days_from_the_roll_up_and_today_live(filled):
    from players.models import Activity
    from players.services import activity_days_refresh

    live = bonus_cost_share_by_day(days=3, now=NOW)
    activity_days_refresh(now=NOW)
    with CaptureQueriesContext(connection) as queries:
        assert bonus_cost_share_by_day(days=3, now=NOW) == live
    assert len(queries) == 3
    # the 19th now comes from the roll-up: its activity rows no longer matter …
    Activity.objects.filter(occurred_at__lt=NOW.replace(hour=0)).delete()
    # … while today is read live
    ActivityFactory(player=filled["eur"], type="bet", amount=Decimal("50"), occurred_at=NOW)
    days = {row["day"]: row for row in bonus_cost_share_by_day(days=3, now=NOW)["days"]}
    assert days["2026-11-19"]["ggr"] == "76.00"
    assert days["2026-11-20"]["ggr"] == "30.00"  # −20 + 50


def test_a_full_refresh_rebuilds_the_roll_up(filled):
    from players.models import ActivityDay
    from players.services import players_refresh

    players_refresh(player_ids=None)
    assert ActivityDay.objects.exists()
