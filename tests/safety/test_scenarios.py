"""Crafted fraud scenarios (issue 15): each shows the flag, the score and the action; the honest
players in the same data raise none."""

from decimal import Decimal

import pytest
from django.utils import timezone

from config.errors import DomainError
from players.fingerprints import fingerprints_record
from players.models import Player
from safety.eligibility import player_reward_refusal
from safety.models import FraudCluster, FraudFlag
from safety.scoring import risk_decision
from safety.services import fraud_scan
from tests.factories import ActivityFactory, PlayerFactory
from tests.safety.conftest import event, grant
from wallet.models import Bonus

pytestmark = pytest.mark.django_db


def honest_players(n=4):
    """Deposit, take one bonus, wager it on slots; own device, own card, own IP."""
    names = []
    for i in range(n):
        name = f"honest-{i}"
        assert event(name, "deposit", 200, device_id=f"h-dev-{i}", ip=f"10.9.0.{i}",
                     payment_instrument=f"h-card-{i}").status == "applied"  # fmt: skip
        grant(name, 50, wagering_multiplier=2, max_bet=Decimal("20"))
        for _ in range(6):
            assert event(name, "bet", 10, game_category="slots").status == "applied"
        names.append(name)
    return names


def flags_of(name):
    return list(FraudFlag.objects.filter(player__external_id=name))


def risk(name):
    return Player.objects.get(external_id=name).risk_score


def assert_honest_clean(names):
    for name in names:
        assert flags_of(name) == [], name
        assert risk(name) == 0


def test_ring_of_five_sharing_a_device():
    honest = honest_players()
    ring = [PlayerFactory(external_id=f"ring-{i}") for i in range(5)]
    fingerprints_record(rows=[(p.pk, "device", "dev-77") for p in ring])
    fingerprints_record(rows=[(p.pk, "ip", f"10.7.0.{i}") for i, p in enumerate(ring)])
    fraud_scan()
    cluster = FraudCluster.objects.get()
    assert cluster.size == 5 and cluster.shared_values == {"device": ["dev-77"]}
    for player in ring:
        [flag] = flags_of(player.external_id)
        assert flag.signal == "shared_device" and flag.status == "open"
        assert flag.evidence["value"] == "dev-77" and flag.evidence["cluster_size"] == 5
        assert sorted(flag.evidence["players"]) == [f"ring-{i}" for i in range(5)]
        assert flag.score == 66  # 40 × (1 + ½·log2(5/2))
        assert risk(player.external_id) == 66
        assert risk_decision(66) == "review"  # rewards wait for staff
    assert_honest_clean(honest)


def test_shared_ip_alone_weighs_less_than_a_device_and_a_carrier_ip_links_nobody():
    a, b = PlayerFactory(), PlayerFactory()
    fingerprints_record(rows=[(a.pk, "ip", "81.2.69.1"), (b.pk, "ip", "81.2.69.1")])
    carrier = [PlayerFactory() for _ in range(51)]
    fingerprints_record(rows=[(p.pk, "ip", "100.64.0.1") for p in carrier])
    fraud_scan()
    [flag] = flags_of(a.external_id)
    assert flag.signal == "shared_ip" and flag.score == 15 and risk(a.external_id) == 15
    assert risk_decision(15) == "passed"
    assert not FraudFlag.objects.filter(player__in=carrier).exists()


def test_bonus_hunter_deposits_takes_a_bonus_and_withdraws():
    honest = honest_players()
    assert event("hunter", "deposit", 100).status == "applied"
    bonus = grant("hunter", 100)
    assert event("hunter", "withdrawal", 100).status == "applied"
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED  # the wallet's own rule
    fraud_scan()
    [flag] = flags_of("hunter")
    assert flag.signal == "bonus_withdrawal" and flag.score == 50
    assert flag.evidence["bonus"] == bonus.pk
    assert flag.evidence["deposit"] == "100.00" and flag.evidence["withdrawal"] == "100.00"
    assert flag.evidence["wagering_done"] == "0.00"
    assert risk("hunter") == 50 and risk_decision(50) == "review"
    assert_honest_clean(honest)


def test_bonus_wagered_on_ten_percent_table_games():
    honest = honest_players()
    assert event("tabler", "deposit", 20).status == "applied"
    bonus = grant("tabler", 100, wagering_multiplier=10)  # default weights: table 10%
    for _ in range(6):
        assert event("tabler", "bet", 20, game_category="table").status == "applied"
    fraud_scan()
    [flag] = flags_of("tabler")
    assert flag.signal == "low_contribution_wagering" and flag.score == 30
    assert flag.evidence["bonus"] == bonus.pk and flag.evidence["weak_share"] == "1.00"
    assert flag.evidence["stakes"]["table"] == {
        "stakes": "120.00", "weight": "0.1", "edge": "0.015", "weak": True,
    }  # fmt: skip
    assert risk("tabler") == 30 and risk_decision(30) == "passed"  # queued for staff only
    assert_honest_clean(honest)


def test_max_bet_breach_live_attempt_and_imported_bet():
    honest = honest_players()
    assert event("breaker", "deposit", 100).status == "applied"
    grant("breaker", 50, wagering_multiplier=10, max_bet=Decimal("5"))
    refused = event("breaker", "bet", 50, game_category="slots")
    assert refused.status == "rejected" and refused.reason.code == "max_bet_exceeded"
    [flag] = flags_of("breaker")  # raised at once by the per-event listener
    assert flag.signal == "max_bet_breach" and flag.score == 30
    assert flag.evidence["stake"] == "50.00" and flag.evidence["max_bet"] == "5.00"
    assert risk("breaker") == 30
    # imported history: a bet over the max while the bonus was active
    breaker = Player.objects.get(external_id="breaker")
    ActivityFactory(
        player=breaker, source="import:activity", amount=Decimal("40"), occurred_at=timezone.now()
    )
    fraud_scan()
    assert FraudFlag.objects.filter(player=breaker, signal="max_bet_breach").count() == 2
    assert risk("breaker") == 30  # one signal counts once
    assert_honest_clean(honest)


def test_chargeback_blocks_rewards_and_forfeits_bonuses():
    honest = honest_players()
    assert event("charger", "deposit", 100).status == "applied"
    grant("charger", 20, wagering_multiplier=1000)
    assert event("charger", "chargeback", 50).status == "applied"
    [flag] = flags_of("charger")
    assert flag.signal == "chargeback" and flag.score == 80
    assert flag.evidence["amount"] == "50.00"
    assert risk("charger") == 80 and risk_decision(80) == "block"
    charger = Player.objects.get(external_id="charger")
    assert not charger.bonuses.filter(status=Bonus.Status.ACTIVE).exists()
    assert player_reward_refusal(charger).code == "risk_blocked"
    with pytest.raises(DomainError) as refused:
        grant("charger", 10)
    assert refused.value.code == "risk_blocked"
    fraud_scan()  # the batch finds the same chargeback: no second flag
    assert len(flags_of("charger")) == 1
    assert_honest_clean(honest)


def test_block_forfeits_active_bonuses_when_configured():
    assert event("ringleader", "deposit", 100, device_id="d-1",
                 payment_instrument="card-1").status == "applied"  # fmt: skip
    bonus = grant("ringleader", 30)
    for i in range(4):
        event(f"mule-{i}", "deposit", 10, device_id="d-1", payment_instrument="card-1")
    fraud_scan()
    # device 40 × 1.5 = 60, payment 50 × 1.5 = 75 → 100 (capped)
    assert risk("ringleader") == 100
    bonus.refresh_from_db()
    assert bonus.status == Bonus.Status.FORFEITED
    assert bonus.end_reason.startswith("risk score 100")


def test_reward_velocity_and_bonus_ratio():
    honest = honest_players(2)
    assert event("farmer", "deposit", 10).status == "applied"
    for _ in range(5):
        grant("farmer", 10, wagering_multiplier=0)  # converts at once: five rewards
    fraud_scan()
    signals = {f.signal: f for f in flags_of("farmer")}
    assert set(signals) == {"reward_velocity", "bonus_ratio"}
    assert signals["reward_velocity"].evidence["rewards"] == 5
    assert signals["bonus_ratio"].evidence["ratio"] == "5.00"
    assert risk("farmer") == 35
    assert_honest_clean(honest)
