"""The pipeline steps (safety/decisions.py) over a chunk frame like the rules engine's."""

import json
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from players.models import PlayerMetrics
from safety.decisions import eligibility_step, fraud_step, profit_step
from safety.models import HouseEdge
from tests.factories import ActivityFactory, PlayerFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _frame(players):
    return pd.DataFrame(
        {
            "_player_id": [p.pk for p in players],
            "status": [p.status for p in players],
            "_no_bonus": [p.no_bonus for p in players],
            "risk_score": [p.risk_score for p in players],
        }
    )


def test_eligibility_step_leaves_the_risk_score_to_the_fraud_step():
    players = [PlayerFactory(status="self_excluded"), PlayerFactory(no_bonus=True),
               PlayerFactory(risk_score=90), PlayerFactory()]  # fmt: skip
    frame = _frame(players)
    mask = np.array([True, True, True, True])
    step = eligibility_step(frame=frame, mask=mask)
    assert list(step.failed) == [True, True, False, False]
    assert list(step.reason[:2]) == ["self_excluded", "no_bonus"]
    assert json.loads(step.details[0]) == {"reason": "self_excluded"}
    fraud = fraud_step(frame=_frame([PlayerFactory(risk_score=s) for s in (10, 55, 85)]),
                       mask=np.array([True, True, True]))  # fmt: skip
    assert list(fraud.failed) == [False, False, True] and fraud.reason[2] == "risk_blocked"
    assert list(fraud.review) == [False, True, False]
    assert json.loads(fraud.details[1]) == {"risk_score": 55, "decision": "review"}


def test_profit_step_fails_the_low_edge_table_player_and_traces_why():
    HouseEdge.objects.update_or_create(game_id="bj", defaults={"edge": D("0.005")})
    slots, table, masked = PlayerFactory(), PlayerFactory(), PlayerFactory()
    now = timezone.now()
    for player, category, game in ((slots, "slots", "s-1"), (table, "table", "bj")):
        ActivityFactory(player=player, type="bet", amount=D(100), game_category=category,
                        game_id=game, occurred_at=now - timedelta(days=2))  # fmt: skip
        PlayerMetrics.objects.create(player=player, window="30d", as_of=now, ngr=D(200))
    rule = SimpleNamespace(
        reward_type="bonus", lookback="30d", acquisition=False, free_spins=None,
        terms={"wagering_multiplier": 35, "wagering_base": "bonus",
               "contribution_weights": {"slots": "1.0", "table": "1.0"}},
    )  # fmt: skip
    frame = _frame([slots, table, masked])
    step = profit_step(
        rule=rule, frame=frame, mask=np.array([True, True, False]),
        amounts=np.array([D(100), D(100), D(7)], dtype=object), now=now,
    )  # fmt: skip
    assert list(step.failed) == [False, True, False] and step.reason[1] == "profit_share"
    assert list(step.expected_cost) == [D(0), D("82.5"), D(7)]
    trace = json.loads(step.details[1])
    assert trace["h"] == "0.005000" and trace["limit"] == "60.00000000"
    assert trace["game_mix"]["bj"]["edge"] == "0.00500"
    acquisition = SimpleNamespace(**{**vars(rule), "acquisition": True})
    step = profit_step(rule=acquisition, frame=frame, mask=np.array([True, True, False]),
                       amounts=np.array([D(100), D(100), D(7)], dtype=object), now=now)  # fmt: skip
    assert not step.failed.any()
