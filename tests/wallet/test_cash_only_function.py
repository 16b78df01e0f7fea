"""The server-side function `wallet_cash_only_post` decides as the Python services (ADR 0022).

A differential test: random sequences of deposits, withdrawals, bets and wins — refused ones,
duplicate idempotency keys, zero wins, rollbacks, rollbacks that overtake their bets (through
the ingestion path), operations inside a caller's transaction, and now and then a bonus granted
and forfeited (the function then answers `fallback`, and wins on bets that drew on it take the
Python path) — run on one player with the function and on a twin with the Python path forced
(`server_function_off`). After every step both got the same answer (the transaction's kind,
details and amounts, or the same refusal code and message), the same cash balance and the same
metrics; at the end both ledgers hold the same transactions and entries, account for account.

Transactional (no test transaction around it), so service calls outside a transaction run the
function in autocommit, as in production.
"""

import random
from contextlib import nullcontext
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY

from config.errors import DomainError
from players.money import currency_get
from tests.wallet.conftest import player_make
from wallet import services
from wallet.events import EventInput, events_ingest
from wallet.models import Account, Bonus, Entry, LedgerTransaction
from wallet.services.base import server_function_off

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KINDS = [choice.value for choice in LedgerTransaction.Kind]


def _operations() -> dict[str, float]:
    """The wallet's operations counter by kind (counted once their transaction commits)."""
    return {
        kind: REGISTRY.get_sample_value("pitboss_wallet_operations_total", {"kind": kind}) or 0.0
        for kind in KINDS
    }


class Twin:
    """One of the two players: every call runs with the function (`python=False`) or without."""

    def __init__(self, tag: str, *, python: bool) -> None:
        self.tag, self.python = tag, python
        self.player = player_make()
        self.bets: list[LedgerTransaction | None] = []  # by step: the bet placed (None: refused)
        self.keys: list[str] = []
        self.bonus: Bonus | None = None
        self.event_bets: list[str] = []  # external ids of the bet events sent

    def mode(self):
        return server_function_off() if self.python else nullcontext()

    def key(self, step: int) -> str:
        self.keys.append(f"{self.tag}-k{step}")
        return self.keys[-1]

    def cash(self) -> Decimal:
        found = Account.objects.filter(player=self.player, kind=Account.Kind.CASH).first()
        return found.balance if found is not None else Decimal(0)

    def event(self, external_id: str, type_: str, amount: Decimal, **fields) -> EventInput:
        return EventInput(
            external_id=f"{self.tag}-{external_id}",
            player_id=self.player.external_id,
            type=type_,
            amount=amount,
            currency=currency_get("EUR"),
            occurred_at=timezone.now(),
            **{k: f"{self.tag}-{v}" if k == "reference_id" else v for k, v in fields.items()},
        )

    def ledger(self) -> list[tuple]:
        """The player's ledger: kind, details (bet ids as positions), entries by account."""
        rows = list(LedgerTransaction.objects.filter(player=self.player).order_by("pk"))
        position = {row.pk: n for n, row in enumerate(rows)}
        entries: dict[int, list] = {row.pk: [] for row in rows}
        for entry in Entry.objects.filter(transaction__in=rows).select_related("account"):
            owner = "player" if entry.account.player_id else "house"
            entries[entry.transaction_id].append((owner, entry.account.kind, entry.amount))
        return [
            (row.kind, self.details(row.details, position), sorted(entries[row.pk])) for row in rows
        ]

    def details(self, details: dict, position: dict | None = None) -> dict:
        """`details` with bet ids as their positions in this player's ledger, bonus ids as
        "bonus" (the twins' grants have different ids)."""
        if position is None:
            rows = LedgerTransaction.objects.filter(player=self.player).order_by("pk")
            position = {pk: n for n, pk in enumerate(rows.values_list("pk", flat=True))}
        shown = dict(details)
        if "bets" in shown:
            shown["bets"] = [position[pk] for pk in shown["bets"]]
        for field in ("bonus", "converted"):
            if isinstance(shown.get(field), dict):
                shown[field] = sorted(shown[field].values())
        for field in ("target", "forfeited_bonuses"):
            if field in shown:
                shown[field] = "bonus" if shown[field] else shown[field]
        if shown.get("wagering"):
            shown["wagering"] = shown["wagering"]["amount"]
        return shown


def _answer(twin: Twin, result) -> tuple:
    if isinstance(result, LedgerTransaction):
        stored = LedgerTransaction.objects.get(pk=result.pk)
        # the returned instance is the stored row
        assert (stored.kind, stored.details, stored.activity_id, stored.idempotency_key) == (
            result.kind,
            result.details,
            result.activity_id,
            result.idempotency_key,
        )
        assert stored.created_at == result.created_at
        return ("posted", result.kind, twin.details(result.details))
    if isinstance(result, list):  # events' results or rollbacks' transactions
        return tuple(_answer(twin, item) for item in result)
    if result is None:
        return ("none",)
    if isinstance(result, tuple):  # a refusal inside a caller's transaction, already an answer
        return result
    # an EventResult: its outcome and balances (external ids differ between the twins)
    return (result.status, result.reason, result.balances, result.warnings)


def _step(twin: Twin, rng: random.Random, step: int, choice: str, amount: Decimal, pick: float):
    """One operation of kind `choice` on `twin`; the same `rng` state for both twins."""
    player, common = twin.player, {"currency": "EUR"}
    placed = [(n, bet) for n, bet in enumerate(twin.bets) if bet is not None]
    chosen = [bet for n, bet in placed if rng.random() < 0.5] if placed else []
    one = placed[int(pick * len(placed))][1] if placed else None
    if choice == "deposit":
        return services.wallet_deposit(
            player=player, amount=amount, idempotency_key=twin.key(step), **common
        )
    if choice == "withdraw":
        return services.wallet_withdraw(
            player=player, amount=amount, idempotency_key=twin.key(step), **common
        )
    if choice == "bet":
        bet = services.wallet_bet_place(
            player=player,
            amount=amount,
            idempotency_key=twin.key(step),
            game_category=rng.choice(["slots", "table", "other"]),
            **common,
        )
        twin.bets.append(bet)
        return bet
    if choice == "win":
        return services.wallet_win_settle(
            player=player,
            amount=amount if rng.random() < 0.8 else Decimal(0),
            idempotency_key=twin.key(step),
            bets=chosen,
            **common,
        )
    if choice == "rollback" and one is not None:
        return services.wallet_bet_rollback(
            player=player, idempotency_key=twin.key(step), bets=[one], **common
        )
    if choice == "duplicate" and twin.keys:
        key = twin.keys[int(pick * len(twin.keys))]
        if rng.random() < 0.5:
            return services.wallet_deposit(
                player=player, amount=amount, idempotency_key=key, **common
            )
        return services.wallet_bet_place(
            player=player, amount=amount, idempotency_key=key, **common
        )
    if choice == "event_bet":
        twin.event_bets.append(f"b{step}")
        round_id = f"round{step % 3}" if rng.random() < 0.3 else ""
        return events_ingest(
            events=[twin.event(f"b{step}", "bet", amount, game_category="slots", round_id=round_id)]
        )
    if choice == "event_settle" and twin.event_bets:  # a win or a rollback of a placed bet
        named = twin.event_bets[int(pick * len(twin.event_bets))]
        type_ = rng.choice(["win", "rollback"])
        return events_ingest(
            events=[
                twin.event(
                    f"s{step}", type_, amount if type_ == "win" else Decimal(0), reference_id=named
                )
            ]
        )
    if choice == "event_rollback_first":
        # the rollback overtakes its bet, named by its id, the reference it is placed under, or
        # its round: the bet that comes after is refused (bet_rolled_back)
        how = rng.choice(["external_id", "reference_id", "round_id"])
        named = {"round_id": f"r{step}"} if how == "round_id" else {"reference_id": f"x{step}"}
        placed = {"reference_id": f"x{step}"} if how == "reference_id" else {}
        placed |= {"round_id": f"r{step}"} if how == "round_id" else {}
        return events_ingest(
            events=[
                twin.event(f"r{step}", "rollback", Decimal(0), **named),
                twin.event(
                    f"x{step}" if how == "external_id" else f"y{step}", "bet", amount, **placed
                ),
            ]
        )
    if choice == "rollback_then_win" and one is not None:  # a win on a rolled-back bet
        answers = []
        for call in (
            lambda: services.wallet_bet_rollback(
                player=player, idempotency_key=twin.key(step), bets=[one], **common
            ),
            lambda: services.wallet_win_settle(
                player=player,
                amount=amount,
                idempotency_key=f"{twin.tag}-w{step}",
                bets=[one] + chosen,
                **common,
            ),
        ):
            try:
                answers.append(_answer(twin, call()))
            except DomainError as error:
                answers.append(("refused", error.code, error.message, error.status_code))
        return tuple(answers)
    if choice == "in_caller_transaction":
        # a refusal inside the caller's transaction leaves it usable (the operation's savepoint)
        with transaction.atomic():
            try:
                inner = _step(twin, rng, step, rng.choice(["bet", "withdraw", "win"]), amount, pick)
            except DomainError as error:
                inner = ("refused", error.code, error.message, error.status_code)
            services.wallet_deposit(
                player=player,
                amount=Decimal("1.00"),
                idempotency_key=f"{twin.tag}-t{step}",
                **common,
            )
        return inner
    if choice == "grant" and twin.bonus is None:
        twin.bonus = services.bonus_grant(
            player=player,
            currency="EUR",
            amount=amount,
            wagering_multiplier=Decimal(2),
            max_bet=Decimal("40.00"),
            idempotency_key=twin.key(step),
            reason="differential",
        )
        return None
    if choice == "forfeit" and twin.bonus is not None:
        twin.bonus.refresh_from_db()
        if twin.bonus.status == Bonus.Status.ACTIVE:
            services.bonus_forfeit(bonus=twin.bonus, reason="differential")
        twin.bonus = None
        return None
    return None


CHOICES = (
    ["deposit"] * 4
    + ["withdraw"] * 2
    + ["bet"] * 5
    + ["win"] * 4
    + ["rollback", "duplicate", "rollback_then_win"]
    + ["event_bet", "event_bet", "event_settle", "event_rollback_first"]
    + ["in_caller_transaction"] * 2
)


@pytest.mark.parametrize("seed", range(6))
def test_the_function_and_the_python_path_decide_alike(seed):
    with_bonuses = seed % 2 == 1  # bonuses come and go: the function falls back meanwhile
    rng = random.Random(seed)
    fast, slow = Twin(f"f{seed}", python=False), Twin(f"p{seed}", python=True)
    choices = CHOICES + (["grant"] * 4 + ["forfeit"] * 2 if with_bonuses else [])
    for step in range(45):
        choice = rng.choice(choices)
        amount = Decimal(rng.choice([rng.randint(1, 6000), rng.randint(1, 300)])) / 100
        pick = rng.random()
        state = rng.getstate()
        answers = []
        for twin in (fast, slow):
            rng.setstate(state)  # both twins draw the same subsets and sub-choices
            counted = _operations()
            with twin.mode():
                try:
                    result = _answer(twin, _step(twin, rng, step, choice, amount, pick))
                except DomainError as error:
                    result = ("refused", error.code, error.message, error.status_code)
            after = _operations()
            moved = {
                kind: after[kind] - counted[kind] for kind in KINDS if after[kind] != counted[kind]
            }
            answers.append((result, twin.cash(), moved))
        assert answers[0] == answers[1], (step, choice, amount)
    assert fast.ledger() == slow.ledger()
    assert len(fast.ledger()) > 10  # the sequence moved money, not only refusals


def test_the_function_posts_for_a_cash_only_player_and_falls_back_otherwise():
    """The two outcomes the differential test cannot tell apart from the outside: which path
    wrote. A cash-only player's bet is posted by the function (no Python lock taken), and so is
    a new player's first deposit once the currency's house account exists (the function opens
    the cash account, migration wallet 0009); a first bet of a new player (no cash account) and
    a player with bonus money get the Python path."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    house = player_make()
    services.wallet_deposit(  # makes the house bank account (the Python path)
        player=house, currency="EUR", amount=Decimal("1.00"), idempotency_key="cf-0"
    )
    newcomer = player_make()
    with CaptureQueriesContext(connection) as first_bet, pytest.raises(DomainError):
        services.wallet_bet_place(
            player=newcomer,
            currency="EUR",
            amount=Decimal("1.00"),
            game_category="slots",
            game_id="g-1",
            idempotency_key="cf-b",
        )
    sent = [q["sql"] for q in first_bet.captured_queries]
    assert any("wallet_cash_only_post" in sql for sql in sent)  # answered `fallback`
    assert any("FOR UPDATE" in sql for sql in sent)  # then the Python path's lock
    assert not Account.objects.filter(player=newcomer).exists()  # refused: nothing stayed
    player = player_make()
    with CaptureQueriesContext(connection) as first:
        services.wallet_deposit(
            player=player, currency="EUR", amount=Decimal("50.00"), idempotency_key="cf-1"
        )
    assert ["wallet_cash_only_post" in q["sql"] for q in first.captured_queries] == [True]
    assert Account.objects.get(player=player, kind="cash").balance == Decimal("50.00")
    with CaptureQueriesContext(connection) as cash_only:
        services.wallet_deposit(
            player=player, currency="EUR", amount=Decimal("5.00"), idempotency_key="cf-2"
        )
    assert ["wallet_cash_only_post" in q["sql"] for q in cash_only.captured_queries] == [True]
    services.bonus_grant(
        player=player,
        currency="EUR",
        amount=Decimal("10.00"),
        wagering_multiplier=Decimal(1),
        reason="test",
        idempotency_key="cf-3",
    )
    with CaptureQueriesContext(connection) as with_bonus:
        bet = services.wallet_bet_place(
            player=player, currency="EUR", amount=Decimal("60.00"), idempotency_key="cf-4"
        )
    sent = [q["sql"] for q in with_bonus.captured_queries]
    assert "wallet_cash_only_post" in sent[0] and any("FOR UPDATE" in sql for sql in sent)
    assert bet.details["cash"] == "55.00" and list(bet.details["bonus"].values()) == ["5.00"]


def _house_accounts_made(currency: str = "EUR") -> None:
    """The currency's house accounts, as the first operation of a currency makes them."""
    seed = player_make(currency=currency)
    services.wallet_deposit(
        player=seed, currency=currency, amount=Decimal("1.00"), idempotency_key="seed-house"
    )


@pytest.mark.parametrize("kind", ["bet", "withdrawal"])
def test_a_refused_first_bet_or_withdrawal_leaves_no_account_behind(kind):
    """Only deposits make the account in the function: a refusal answers without raising, so
    an account made for a refused bet would outlive it. The Python path makes it inside the
    transaction its refusal rolls back."""
    _house_accounts_made()
    player = player_make()
    operation = services.wallet_bet_place if kind == "bet" else services.wallet_withdraw
    with pytest.raises(DomainError) as refused:
        operation(player=player, currency="EUR", amount=Decimal("5.00"), idempotency_key="rf-1")
    assert refused.value.code == "insufficient_funds"
    assert not Account.objects.filter(player=player).exists()


def test_concurrent_first_deposits_make_one_account_holding_them_all():
    """Ten first deposits of one player at once (ten connections): one cash account, every
    deposit posted once, the balance their sum — the unique key decides who makes the account
    and the lock serialises the postings."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import close_old_connections, connections

    _house_accounts_made()
    player = player_make()
    barrier = threading.Barrier(10)

    def deposit(index):
        close_old_connections()
        try:
            barrier.wait()
            return services.wallet_deposit(
                player=player,
                currency="EUR",
                amount=Decimal(index + 1),
                idempotency_key=f"cfd-{index}",
            ).pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        posted = list(pool.map(deposit, range(10)))
    assert len(set(posted)) == 10
    cash = Account.objects.get(player=player, kind="cash")
    assert cash.balance == sum(Decimal(i + 1) for i in range(10))
    assert LedgerTransaction.objects.filter(player=player, kind="deposit").count() == 10
