"""The rules pipeline with the safety steps filled in (SPEC §7): the profit share rejects a
reward costing more than 30% of the player's NGR, with the numbers in the trace; a risky
player's reward waits for review, a blocked one's is refused; an acquisition rule is exempt."""

from decimal import Decimal

import pytest

from rewards.models import Decision, Reward
from rewards.services import run_create, run_execute
from tests.rewards.rules.conftest import player_make, rule_make

pytestmark = pytest.mark.django_db


def _run(rule):
    run = run_create(rule_ids=[rule.pk], players=None, start=False)
    run_execute(run_id=run.pk, fan_out=False)
    run.refresh_from_db()
    return run


def _steps(player) -> dict:
    return {s["step"]: s for s in Decision.objects.get(player=player).steps}


def test_a_reward_over_the_ngr_share_is_rejected_with_its_numbers():
    rule = rule_make(condition="net_loss_7d >= 50", amount="net_loss_7d * 0.10")
    modest = player_make(metrics={"7d": {"net_loss": "550"}, "30d": {"ngr": "100"}})
    healthy = player_make(metrics={"7d": {"net_loss": "550"}, "30d": {"ngr": "600"}})
    run = _run(rule)
    assert run.counts()["issued"] == 1 and run.counts()["rejected"] == 1
    assert Reward.objects.get(status="issued").player == healthy
    profit = _steps(modest)["profit"]
    assert profit["outcome"] == "failed"
    details = profit["details"]
    assert Decimal(details["expected_cost"]) == Decimal("55.00")
    assert Decimal(details["limit"]) == Decimal("30.00")  # 30% of NGR 100
    assert Decision.objects.get(player=modest).reason == "profit_share"
    assert "fraud" not in _steps(modest)  # the first failed step ends the decision


def test_an_acquisition_rule_is_exempt_from_the_share():
    rule = rule_make(amount="net_loss_7d * 0.10", acquisition=True)
    player_make(metrics={"7d": {"net_loss": "550"}, "30d": {"ngr": "0"}})
    assert _run(rule).counts()["issued"] == 1


@pytest.mark.parametrize(
    "risk, outcome", [(10, "issued"), (60, "pending_review"), (85, "rejected")]
)
def test_the_risk_score_sends_to_review_or_refuses(risk, outcome):
    rule = rule_make()
    player = player_make(metrics={"7d": {"net_loss": "550"}}, risk_score=risk)
    _run(rule)
    reward = Reward.objects.filter(player=player).first()
    fraud = _steps(player)["fraud"]
    assert fraud["details"]["risk_score"] == risk
    assert (reward.status if reward else "rejected") == outcome
    if outcome == "rejected":
        assert fraud["outcome"] == "failed"
        assert Decision.objects.get(player=player).reason == "risk_blocked"
        assert reward is None or reward.transaction is None  # no money moved


def test_the_share_is_set_per_rule(api_client_for):
    admin = api_client_for("admin")
    from tests.rewards.rules.conftest import RULE

    body = {**RULE, "name": "generous", "max_cost_share": "0.60"}
    created = admin.post("/api/v1/rules/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["max_cost_share"] == "0.6000"
    bad = admin.post(
        "/api/v1/rules/", {**body, "name": "x", "max_cost_share": "1.5"}, format="json"
    )
    assert bad.status_code == 400
    from rewards.models import Rule

    rule = Rule.objects.get(name="generous")
    player = player_make(metrics={"7d": {"net_loss": "550"}, "30d": {"ngr": "100"}})
    _run(rule)  # 55.00 against 60% of 100: within the share
    assert Reward.objects.get(player=player).status == "issued"
