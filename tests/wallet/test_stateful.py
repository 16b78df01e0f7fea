"""Property-based: random operation sequences against a small pure-Python model of the wallet.

Besides the services, rollbacks that overtake their bets and resent events go through the
ingestion path: they must move nothing, whatever else has happened.

After every step the database's balances, bonus states and wagering must equal the model's, and
the ledger must stay conserved.
"""

import itertools
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from config.errors import DomainError
from players.money import currency_get
from tests.wallet.conftest import assert_ledger_conserved, player_make
from wallet import services
from wallet.events import EventInput, EventResult, events_ingest
from wallet.models import Account, Bonus

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
WEIGHTS = {"slots": Decimal("1"), "table": Decimal("0.1"), "live": Decimal("0")}
money = st.integers(min_value=1, max_value=6000).map(lambda cents: Decimal(cents) / 100)
keys = itertools.count()


class WalletMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.player = player_make()
        self.started = timezone.now()
        self.cash = Decimal(0)
        self.bonuses: dict[int, dict] = {}  # id -> status, balance, done, required, max_bet, cap
        self.bets: list[dict] = []  # txn, cash, parts {id: amount}, wagering (id, amount), live
        self.remembered: list[str] = []  # bet ids whose rollback arrived first (events)
        self.sent: list[tuple[EventInput, str]] = []  # events sent, with their first status

    # --- helpers ----------------------------------------------------------------------------
    def key(self) -> str:
        return f"sm-{next(keys)}"

    def active(self) -> list[int]:
        return sorted(i for i, b in self.bonuses.items() if b["status"] == "active")

    def end(self, bonus_id: int, status: str) -> None:
        bonus = self.bonuses[bonus_id]
        if status == "completed":
            cap = bonus["cap"]
            bonus["converted"] = bonus["balance"] if cap is None else min(bonus["balance"], cap)
            self.cash += bonus["converted"]
        bonus["balance"] = Decimal(0)
        bonus["status"] = status

    def pay_back(self, bonus_id: int, amount: Decimal, *, win: bool) -> None:
        """A win share or refunded stake of a bonus: its balance while active; a win share of a
        completed bonus to cash up to its conversion cap; the rest to the house."""
        bonus = self.bonuses[bonus_id]
        if bonus["status"] == "active":
            bonus["balance"] += amount
        elif bonus["status"] == "completed" and win:
            room = amount if bonus["cap"] is None else bonus["cap"] - bonus["converted"]
            paid = min(amount, max(Decimal(0), room))
            bonus["converted"] += paid
            self.cash += paid

    def expect_refusal(self, code: str, call) -> None:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == code

    # --- rules ------------------------------------------------------------------------------
    @rule(amount=money)
    def deposit(self, amount):
        services.wallet_deposit(
            player=self.player, currency="EUR", amount=amount, idempotency_key=self.key()
        )
        self.cash += amount

    @rule(amount=money)
    def withdraw(self, amount):
        def call():
            return services.wallet_withdraw(
                player=self.player, currency="EUR", amount=amount, idempotency_key=self.key()
            )

        if amount > self.cash:
            return self.expect_refusal("insufficient_funds", call)
        call()
        for bonus_id in self.active():
            self.end(bonus_id, "forfeited")
        self.cash -= amount

    @rule(
        amount=money,
        multiplier=st.sampled_from([0, 1, 2, 5]),
        max_bet=st.none() | money,
        cap=st.none() | money,
    )
    def grant(self, amount, multiplier, max_bet, cap):
        bonus = services.bonus_grant(
            player=self.player,
            currency="EUR",
            amount=amount,
            wagering_multiplier=Decimal(multiplier),
            max_bet=max_bet,
            max_conversion=cap,
            contribution_weights={k: str(v) for k, v in WEIGHTS.items()},
            idempotency_key=self.key(),
        )
        self.bonuses[bonus.pk] = {
            "status": "active",
            "balance": amount,
            "done": Decimal(0),
            "required": amount * multiplier,
            "max_bet": max_bet,
            "cap": cap,
            "converted": Decimal(0),
        }
        if multiplier == 0:
            self.end(bonus.pk, "completed")

    @rule(amount=money, category=st.sampled_from(sorted(WEIGHTS)))
    def bet(self, amount, category):
        def call():
            return services.wallet_bet_place(
                player=self.player,
                currency="EUR",
                amount=amount,
                idempotency_key=self.key(),
                game_category=category,
            )

        active = self.active()
        limits = [self.bonuses[i]["max_bet"] for i in active if self.bonuses[i]["max_bet"]]
        if limits and amount > min(limits):
            return self.expect_refusal("max_bet_exceeded", call)
        if amount > self.cash + sum(self.bonuses[i]["balance"] for i in active):
            return self.expect_refusal("insufficient_funds", call)
        posted = call()
        from_cash = min(self.cash, amount)
        self.cash -= from_cash
        rest, parts = amount - from_cash, {}
        for bonus_id in active:
            take = min(rest, self.bonuses[bonus_id]["balance"])
            if take > 0:
                parts[bonus_id] = take
                self.bonuses[bonus_id]["balance"] -= take
                rest -= take
        target = next(iter(parts), None) or (active[0] if active else None)
        wagering = None
        if target is not None and amount * WEIGHTS[category] > 0:
            contribution = amount * WEIGHTS[category]
            wagering = (target, contribution)
            bonus = self.bonuses[target]
            bonus["done"] += contribution
            if bonus["done"] >= bonus["required"]:
                self.end(target, "completed")
        self.bets.append(
            {
                "txn": posted,
                "cash": from_cash,
                "parts": parts,
                "wagering": wagering,
                "live": True,
                "settled": False,
            }
        )

    @precondition(lambda self: self.bets)
    @rule(
        data=st.data(),
        amount=st.integers(min_value=0, max_value=20000).map(lambda c: Decimal(c) / 100),
    )
    def win(self, data, amount):
        bet = data.draw(st.sampled_from(self.bets))

        def call():
            return services.wallet_win_settle(
                player=self.player,
                currency="EUR",
                amount=amount,
                idempotency_key=self.key(),
                bets=[bet["txn"]],
            )

        if not bet["live"]:
            return self.expect_refusal("already_rolled_back", call)
        call()
        bet["settled"] = True
        stake = bet["cash"] + sum(bet["parts"].values(), Decimal(0))
        if not bet["parts"]:
            self.cash += amount
            return
        cash_share = (amount * bet["cash"] / stake).quantize(CENT, rounding=ROUND_DOWN)
        shares = {
            i: (amount * p / stake).quantize(CENT, rounding=ROUND_DOWN)
            for i, p in bet["parts"].items()
        }
        shares[list(shares)[-1]] += amount - cash_share - sum(shares.values())
        self.cash += cash_share
        for bonus_id, share in shares.items():
            self.pay_back(bonus_id, share, win=True)

    @precondition(lambda self: self.bets)
    @rule(data=st.data())
    def rollback(self, data):
        bet = data.draw(st.sampled_from(self.bets))

        def call():
            # a stale copy: the service must find the earlier reversal itself
            return services.wallet_bet_rollback(
                player=self.player, currency="EUR", idempotency_key=self.key(), bets=[bet["txn"]]
            )

        if not bet["live"]:
            return self.expect_refusal("already_rolled_back", call)
        if bet["settled"]:
            return self.expect_refusal("bet_settled", call)
        call()
        bet["live"] = False
        self.cash += bet["cash"]
        for bonus_id, part in bet["parts"].items():
            self.pay_back(bonus_id, part, win=False)
        if bet["wagering"]:
            target, contribution = bet["wagering"]
            if self.bonuses[target]["status"] == "active":
                self.bonuses[target]["done"] = max(
                    Decimal(0), self.bonuses[target]["done"] - contribution
                )

    @precondition(lambda self: self.active())
    @rule(data=st.data())
    def expire(self, data):
        bonus_id = data.draw(st.sampled_from(self.active()))
        Bonus.objects.filter(pk=bonus_id).update(expires_at=timezone.now() - timedelta(seconds=1))
        assert services.bonuses_expire() == 1
        self.end(bonus_id, "expired")

    @precondition(lambda self: self.active())
    @rule(data=st.data())
    def forfeit(self, data):
        bonus_id = data.draw(st.sampled_from(self.active()))
        services.bonus_forfeit(bonus=Bonus.objects.get(pk=bonus_id), reason="property test")
        self.end(bonus_id, "forfeited")

    # --- out-of-order events through the ingestion path -----------------------------------------
    def send(self, external_id: str, type_: str, amount: Decimal, **fields) -> EventResult:
        event = EventInput(
            external_id=external_id,
            player_id=self.player.external_id,
            type=type_,
            amount=amount,
            currency=currency_get("EUR"),
            occurred_at=self.started,
            **fields,
        )
        [result] = events_ingest(events=[event])
        self.sent.append((event, result.status))
        return result

    @rule(amount=money)
    def rollback_before_its_bet(self, amount):
        bet_id = f"late-{next(keys)}"
        result = self.send(f"rb-{bet_id}", "rollback", amount, reference_id=bet_id)
        assert result.status == "applied", result
        assert [w["code"] for w in result.warnings] == ["rollback_before_bet"]
        self.remembered.append(bet_id)

    @precondition(lambda self: self.remembered)
    @rule(data=st.data(), amount=money, category=st.sampled_from(sorted(WEIGHTS)))
    def late_bet(self, data, amount, category):
        bet_id = data.draw(st.sampled_from(self.remembered))
        self.remembered.remove(bet_id)  # it arrives once; `resend` sends it again
        result = self.send(bet_id, "bet", amount, game_category=category)
        assert result.status == "rejected", result
        assert result.reason.code == "bet_rolled_back"

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def resend(self, data):
        event, first_status = data.draw(st.sampled_from(self.sent))
        [result] = events_ingest(events=[event])
        assert result.status == "duplicate"
        assert result.original_status == first_status

    # --- invariants ---------------------------------------------------------------------------
    @invariant()
    def database_matches_model(self):
        cash = Account.objects.filter(player=self.player, kind="cash").values_list(
            "balance", flat=True
        )
        assert (cash.first() or Decimal(0)) == self.cash
        rows = Bonus.objects.filter(player=self.player).values_list(
            "pk", "status", "account__balance", "wagering_done"
        )
        actual = {pk: (status, balance, done) for pk, status, balance, done in rows}
        expected = {pk: (b["status"], b["balance"], b["done"]) for pk, b in self.bonuses.items()}
        # wagering is frozen once a bonus has ended; compare it only while active
        for pk, (status, balance, done) in expected.items():
            got = actual[pk]
            assert (got[0], got[1]) == (status, balance), (pk, got, expected[pk])
            if status == "active":
                assert got[2] == done, (pk, got, expected[pk])
        converted = dict(Bonus.objects.filter(player=self.player).values_list("pk", "converted"))
        assert converted == {pk: b.get("converted", Decimal(0)) for pk, b in self.bonuses.items()}

    @invariant()
    def ledger_is_conserved(self):
        assert_ledger_conserved()


def test_wallet_behaves_like_its_model():
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
