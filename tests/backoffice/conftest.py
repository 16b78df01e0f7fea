"""Back office fixtures: a signed-in staff client per role (admin, operator, analyst), and
data for the dashboard tests: a few players in two currencies with rates and one without,
their 30-day metrics, activity, bonus activity, rewards, flags, import jobs and endpoints —
small enough to compute every figure by hand."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from config.roles import roles_sync
from importer.models import ImportJob
from players.models import BonusActivity, Currency, PlayerMetrics
from rewards.models import Reward, Rule, RuleRun
from safety.models import FraudFlag
from tests.factories import ActivityFactory, PlayerFactory, currency
from tests.rewards.rules.conftest import _jurisdictions_seed  # noqa: F401  (autouse)
from tests.wallet.conftest import ledger_conserved, player  # noqa: F401  (fixtures)
from webhooks.models import WebhookEndpoint

PASSWORD = "back-office-password"


def staff_user(role: str) -> User:
    """A staff user (not a superuser) whose only role is `role`."""
    roles_sync()
    user = User.objects.create_user(f"{role}-staff", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_client_for(db, client):
    """`staff_client_for("analyst")`: the Django test client signed in as that role."""

    def make(role: str):
        client.force_login(staff_user(role))
        return client

    return make


NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def metrics(someone, **values) -> PlayerMetrics:
    return PlayerMetrics.objects.create(
        player=someone, window="30d", as_of=NOW, **{k: Decimal(v) for k, v in values.items()}
    )


def reward(rule, someone, *, status="issued", cost="0", at=NOW) -> Reward:
    return Reward.objects.create(
        rule=rule,
        rule_version=1,
        player=someone,
        run=RuleRun.objects.create(),
        reward_type="bonus",
        status=status,
        amount=Decimal(cost),
        currency=someone.currency,
        requested_amount=Decimal(cost),
        reporting_amount=Decimal(cost),
        created_at=at,
    )


def flag(someone, signal: str, key: str, *, status="open") -> FraudFlag:
    return FraudFlag.objects.create(
        player=someone,
        signal=signal,
        key=key,
        score=10,
        status=status,
        note="" if status == "open" else "checked",
    )


def import_job(status: str, *, days_ago: int = 0) -> ImportJob:
    job = ImportJob.objects.create(kind="activity", status=status, file="imports/x.csv")
    ImportJob.objects.filter(pk=job.pk).update(created_at=NOW - timedelta(days=days_ago))
    return job


@pytest.fixture
def casino(db):
    """EUR player `eur` (losing), USD player `usd` (vip, USD = 0.92 EUR) and `xts` (new) in a
    currency without any exchange rate."""
    xts = Currency.objects.create(code="XTS", name="Testing code", minor_units=2)
    eur = PlayerFactory(external_id="p-eur", segment="losing")
    usd = PlayerFactory(external_id="p-usd", segment="vip", currency=currency("USD"))
    rateless = PlayerFactory(external_id="p-xts", segment="new", currency=xts)
    return {"eur": eur, "usd": usd, "xts": rateless}


@pytest.fixture
def filled(casino):
    """Everything the dashboard shows, with the figures the tests expect."""
    eur, usd, xts = casino["eur"], casino["usd"], casino["xts"]
    metrics(eur, turnover="100", ggr="40", ngr="30", bonus_cost="10")
    metrics(usd, turnover="1000", ggr="200", ngr="150", bonus_cost="50")
    metrics(xts, turnover="500", ggr="100", ngr="100", bonus_cost="0")
    yesterday = NOW - timedelta(days=1)
    for someone, kind, amount, at in (
        (eur, "bet", "100", yesterday),
        (eur, "win", "60", yesterday),
        (eur, "rollback", "10", yesterday),
        (usd, "bet", "50", yesterday),
        (xts, "bet", "999", yesterday),  # no rate: left out
        (eur, "bet", "80", NOW),
        (eur, "win", "100", NOW),  # today the house loses 20
        (eur, "bet", "1000", NOW - timedelta(days=10)),  # before the 3-day range
    ):
        ActivityFactory(player=someone, type=kind, amount=Decimal(amount), occurred_at=at)
    for someone, kind, amount in (
        (usd, BonusActivity.Kind.CONVERTED, "7.60"),
        (eur, BonusActivity.Kind.CASH_PAID, "1.00"),
        (eur, BonusActivity.Kind.GRANTED, "500"),  # granted is not a cost
    ):
        BonusActivity.objects.create(
            player=someone, kind=kind, player_amount=Decimal(amount), occurred_at=yesterday
        )
    weekly = Rule.objects.create(name="weekly-cashback", reward_type="cashback")
    welcome = Rule.objects.create(name="welcome", reward_type="bonus")
    reward(weekly, eur, cost="10", at=yesterday)
    reward(weekly, usd, cost="5", at=yesterday)
    reward(weekly, eur, cost="20", at=NOW)
    reward(weekly, eur, status="pending_review", cost="70", at=NOW - timedelta(hours=5))
    reward(weekly, usd, status="pending_review", cost="30", at=NOW - timedelta(hours=2))
    reward(weekly, eur, status="rejected", cost="40", at=NOW)
    reward(welcome, usd, cost="100", at=NOW - timedelta(days=2))
    reward(welcome, eur, cost="300", at=NOW - timedelta(days=3))  # before the 3-day range
    for n in range(3):
        flag(eur, "shared_device", f"device-{n}")
    flag(usd, "chargeback", "c-1")
    flag(usd, "chargeback", "c-2", status="dismissed")
    import_job("running")
    import_job("queued")
    import_job("queued")
    import_job("failed", days_ago=1)
    import_job("failed", days_ago=10)
    import_job("succeeded")
    WebhookEndpoint.objects.create(
        url="https://gone.example.test/hook", active=False, disabled_reason="410 Gone."
    )
    WebhookEndpoint.objects.create(url="https://fine.example.test/hook")
    return casino
