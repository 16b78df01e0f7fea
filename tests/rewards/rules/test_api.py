"""Rules API: the SPEC §10 shapes, expression errors with positions, runs, review, traces."""

from decimal import Decimal

import pytest

from rewards.models import Reward, Rule, RuleVersion
from tests.rewards.rules.conftest import RULE, player_make

pytestmark = pytest.mark.django_db


def test_rule_crud_round_trips_the_shape_and_versions(api_client_for):
    admin = api_client_for("admin")  # the body sets a budget and thresholds: an admin's
    body = {
        **RULE,
        "limits": {"max_amount": "100.00", "cooldown_days": 0,
                   "per_player": [{"period": "week", "count": 1, "amount": None}],
                   "budget": {"period": "month", "amount": "10000.00"}},
        "terms": {"wagering_multiplier": 1, "wagering_base": "bonus", "max_bet": "5.00",
                  "expires_in_days": 7, "max_conversion": None, "contribution_weights": {}},
        "approval_threshold": "500.00", "holdout_percent": 10,
        "valid_from": "2026-12-01T00:00:00+00:00",
    }  # fmt: skip
    created = admin.post("/api/v1/rules/", body, format="json")
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["limits"]["budget"] == {"period": "month", "amount": "10000.00"}
    assert rule["approval_threshold"] == "500.00" and rule["holdout_percent"] == 10
    assert rule["version"] == 1
    edited = admin.patch(f"/api/v1/rules/{rule['id']}/", {"priority": 5}, format="json").json()
    assert (edited["priority"], edited["version"], edited["name"]) == (5, 2, RULE["name"])
    assert RuleVersion.objects.filter(rule_id=rule["id"]).count() == 2
    listed = admin.get("/api/v1/rules/").json()["results"]
    assert [r["id"] for r in listed] == [rule["id"]]
    assert admin.delete(f"/api/v1/rules/{rule['id']}/").status_code == 204


def test_invalid_condition_answers_400_with_position_and_suggestions(operator_client):
    response = operator_client.post(
        "/api/v1/rules/", {**RULE, "condition": "net_los_7d >= 50"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_expression"
    problem = error["details"]["condition"][0]
    assert problem["position"] == 0 and "net_loss_7d" in problem["suggestions"]
    response = operator_client.post(
        "/api/v1/rules/", {**RULE, "amount": "net_loss_7d >"}, format="json"
    )
    assert response.status_code == 400 and "amount" in response.json()["error"]["details"]
    response = operator_client.post(
        "/api/v1/rules/", {**RULE, "trigger": "on_event:nope"}, format="json"
    )
    assert response.status_code == 400 and "trigger" in response.json()["error"]["details"]
    response = operator_client.post(
        "/api/v1/rules/", {**RULE, "condition": "event.amount > 5"}, format="json"
    )
    assert response.status_code == 400  # event names only in event-triggered rules


def test_analyst_cannot_write(analyst_client):
    assert analyst_client.post("/api/v1/rules/", RULE, format="json").status_code == 403
    assert analyst_client.get("/api/v1/rules/").status_code == 200


def test_operators_write_rules_but_not_their_budget_and_thresholds(operator_client, api_client_for):
    for field, value in [
        ("approval_threshold", "50.00"),
        ("limits", {"max_amount": "20.00"}),
        ("max_cost_share", "0.60"),
    ]:
        refused = operator_client.post("/api/v1/rules/", {**RULE, field: value}, format="json")
        assert refused.status_code == 403, refused.json()
        assert refused.json()["error"]["code"] == "budget_admin_only"
        assert refused.json()["error"]["details"]["fields"] == [field]
    rule = operator_client.post("/api/v1/rules/", RULE, format="json").json()
    url = f"/api/v1/rules/{rule['id']}/"
    assert (
        operator_client.patch(url, {"limits": {"max_amount": "5.00"}}, format="json").status_code
        == 403
    )
    # the rest of the rule, and a whole rule sent back with its budget unchanged, are fine
    assert (
        operator_client.patch(url, {"amount": "net_loss_7d * 0.05"}, format="json").status_code
        == 200
    )
    admin = api_client_for("admin")
    assert admin.patch(url, {"approval_threshold": "50.00"}, format="json").status_code == 200
    whole = operator_client.get(url).json()
    whole.pop("id", None)
    assert operator_client.put(url, {**whole, "priority": 7}, format="json").status_code == 200
    saved = Rule.objects.get(pk=rule["id"])
    assert (saved.approval_threshold, saved.priority) == (Decimal("50.00"), 7)


def test_run_review_approve_reject_and_traces(
    operator_client, api_client_for, django_capture_on_commit_callbacks
):
    body = {**RULE, "approval_threshold": "50.00"}  # thresholds are an admin's
    rule = api_client_for("admin").post("/api/v1/rules/", body, format="json").json()
    big = player_make(metrics={"7d": {"net_loss": "900"}})
    small = player_make(metrics={"7d": {"net_loss": "300"}})
    other = player_make(metrics={"7d": {"net_loss": "700"}})
    nobody = player_make(segment="vip")
    with django_capture_on_commit_callbacks(execute=True):
        queued = operator_client.post("/api/v1/rules/run/", {"rules": [rule["id"]]}, format="json")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    run = operator_client.get(f"/api/v1/rules/runs/{queued.json()['id']}/").json()
    assert run["status"] == "succeeded" and run["players_done"] == run["players_total"] == 4
    assert run["counts"] == {"issued": 1, "review": 2, "rejected": 0, "held_out": 0,
                             "capped": 0, "not_matched": 1}  # fmt: skip
    rewards = operator_client.get("/api/v1/rewards/", {"status": "pending_review"}).json()
    assert {r["player"] for r in rewards["results"]} == {big.external_id, other.external_id}
    pending = Reward.objects.get(player=big)
    assert operator_client.post(f"/api/v1/rewards/{pending.pk}/reject/", {}).status_code == 400
    approved = operator_client.post(f"/api/v1/rewards/{pending.pk}/approve/", {"note": "ok"})
    assert approved.status_code == 200 and approved.json()["status"] == "issued"
    again = operator_client.post(f"/api/v1/rewards/{pending.pk}/approve/", {"note": "ok"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_pending"
    pending.refresh_from_db()
    assert pending.transaction is not None
    second = Reward.objects.get(player=other)
    rejected = operator_client.post(f"/api/v1/rewards/{second.pk}/reject/", {"note": "abuse"})
    assert rejected.json()["status"] == "rejected"
    assert second.__class__.objects.get(pk=second.pk).transaction is None
    trace = operator_client.get(f"/api/v1/rewards/{pending.pk}/trace/").json()
    assert trace["outcome"] == "issued" and trace["player"] == big.external_id
    assert trace["steps"][-1] == {"step": "approval", "outcome": "review",
                                  "details": {"threshold": "50.00"}}  # fmt: skip
    why = operator_client.get(
        f"/api/v1/players/{nobody.external_id}/decisions/", {"rule": rule["id"]}
    ).json()
    assert why["outcome"] == "not_matched" and why["steps"][0]["outcome"] == "failed"
    mine = operator_client.get(
        f"/api/v1/players/{small.external_id}/decisions/", {"rule": rule["id"]}
    ).json()
    assert mine["outcome"] == "issued"
    assert (
        operator_client.get("/api/v1/rewards/", {"player": small.external_id}).json()["results"][0][
            "amount"
        ]
        == "30.00"
    )


def test_simulate_answers_the_shape(operator_client, api_client_for):
    rule = (
        api_client_for("admin")
        .post("/api/v1/rules/", {**RULE, "limits": {"max_amount": "40.00"}}, format="json")
        .json()
    )
    player_make(metrics={"7d": {"net_loss": "550"}})
    player_make(status="self_excluded", metrics={"7d": {"net_loss": "550"}})
    answer = operator_client.post(f"/api/v1/rules/{rule['id']}/simulate/", {}, format="json")
    assert answer.status_code == 200
    assert answer.json() == {
        "rule": rule["id"], "players_evaluated": 2, "matched": 2, "held_out": 0, "issued": 1,
        "capped": 1, "rejected": 1, "review": 0, "currency": "EUR", "total_amount": "40.00",
        "expected_cost": "40.00",
        "by_segment": {"losing": {"players": 1, "amount": "40.00", "expected_cost": "40.00"}},
        "rejected_by_reason": {"self_excluded": 1},
    }  # fmt: skip
    assert not Reward.objects.exists() and Rule.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"terms": "x"}, {"terms": {"wagering_multiplier": "lots"}}, {"terms": [1]},
        {"limits": []}, {"limits": {"per_player": [{"period": "year"}]}},
        {"limits": {"budget": {"period": "week", "amount": "-1"}}},
        {"limits": {"cooldown_days": "x"}}, {"limits": {"max_amount": "1e400"}},
        {"reward_type": "free_spins", "free_spins": {"count": "x"}},
        {"reward_type": "free_spins", "free_spins": "x"},
        {"target_segments": ["nope"]}, {"currency": "XXX"}, {"approval_threshold": "abc"},
        {"trigger": "schedule", "schedule": "every day"}, {"lookback": "1y"},
        {"valid_from": "2026-12-02T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"},
        {"name": ""}, {"amount": ""}, {"condition": "(" * 100},
        {"terms": {"max_bet": {"a": 1}}}, {"terms": {"expires_in_days": -3}},
    ],
)  # fmt: skip
def test_bad_rule_bodies_answer_400(operator_client, change):
    answer = operator_client.post("/api/v1/rules/", {**RULE, **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] in {"invalid", "invalid_rule", "invalid_expression"}


def test_bad_run_simulate_and_review_requests(operator_client):
    rule = operator_client.post("/api/v1/rules/", RULE, format="json").json()
    assert (
        operator_client.post("/api/v1/rules/run/", {"rules": [99999]}, format="json").status_code
        == 400
    )
    assert (
        operator_client.post(
            "/api/v1/rules/run/", {"players": ["nobody"]}, format="json"
        ).status_code
        == 400
    )
    simulate = f"/api/v1/rules/{rule['id']}/simulate/"
    assert operator_client.post(simulate, {"players": ["nobody"]}, format="json").status_code == 400
    assert operator_client.post("/api/v1/rules/99999/simulate/", {}).status_code == 404
    assert operator_client.get("/api/v1/rules/runs/99999/").status_code == 404
    assert operator_client.post("/api/v1/rewards/99999/approve/", {}).status_code == 404
    assert operator_client.get("/api/v1/rewards/", {"rule": "x"}).status_code == 400
    assert operator_client.get("/api/v1/rewards/99999/trace/").status_code == 404
    assert operator_client.get("/api/v1/players/nobody/decisions/").status_code == 404
