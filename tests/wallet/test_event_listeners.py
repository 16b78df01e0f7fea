"""The ingestion path's listener contract (ADR 0008): every applied event once, after commit;
nothing for duplicates, rejections or a caller's rolled-back transaction; a failing listener
neither loses the event nor silences the others."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from players.models import Activity
from players.money import currency_get
from wallet import events
from wallet.events import APPLIED, AppliedEvent, EventInput, EventResult, events_ingest

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = timezone.now()


@pytest.fixture
def heard(monkeypatch):
    """A registered listener; yields the batches it heard."""
    batches: list[list[AppliedEvent]] = []
    monkeypatch.setattr(events, "_listeners", list(events.event_listeners()))
    events.event_listener_register(lambda applied: batches.append(list(applied)))
    return batches


def event(external_id: str, type_: str = "deposit", amount: str = "10.00", **fields) -> EventInput:
    return EventInput(
        external_id=external_id,
        player_id=fields.pop("player_id", "listen-1"),
        type=type_,
        amount=Decimal(amount),
        currency=currency_get("EUR"),
        occurred_at=WHEN,
        **fields,
    )


def test_each_applied_event_is_heard_once_after_commit(heard):
    results = events_ingest(events=[event("d-1"), event("d-2", amount="5.00")])
    assert all(isinstance(r, EventResult) and r.status == APPLIED for r in results)
    assert len(heard) == 1
    [batch] = heard
    assert [e.external_id for e in batch] == ["d-1", "d-2"]
    first = batch[0]
    assert first.type == "deposit" and first.amount == Decimal("10.00") and first.currency == "EUR"
    assert first.player_external_id == "listen-1"
    assert Activity.objects.get(pk=first.activity_id).player_id == first.player_id
    assert results[0].activity_id == first.activity_id


def test_duplicates_and_rejections_are_not_heard(heard):
    events_ingest(events=[event("d-1")])
    heard.clear()
    results = events_ingest(
        events=[
            event("d-1"),  # duplicate
            event("d-1", amount="11.00"),  # idempotency conflict
            event("w-1", "withdrawal", "500.00"),  # insufficient funds
            event("b-1", "bet", "2.00"),  # applied
        ]
    )
    assert [r.status for r in results] == ["duplicate", "rejected", "rejected", "applied"]
    assert [r.reason.code for r in results[1:3]] == ["idempotency_conflict", "insufficient_funds"]
    assert [[e.external_id for e in batch] for batch in heard] == [["b-1"]]


def test_nothing_is_heard_when_the_callers_transaction_rolls_back(heard):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        assert events_ingest(events=[event("d-1")])[0].status == APPLIED
        raise Abort
    assert heard == []
    assert not Activity.objects.filter(external_id="d-1").exists()


def test_inside_a_transaction_listeners_wait_for_its_commit(heard):
    with transaction.atomic():
        events_ingest(events=[event("d-1")])
        assert heard == []
    assert [e.external_id for e in heard[0]] == ["d-1"]


def test_a_failing_listener_is_logged_and_the_others_still_hear(heard, monkeypatch):
    def broken(applied):
        raise RuntimeError("listener bug")

    monkeypatch.setattr(events, "_listeners", [broken, *events._listeners])
    [result] = events_ingest(events=[event("d-1")])
    assert result.status == APPLIED
    assert Activity.objects.filter(external_id="d-1").exists()
    assert [e.external_id for e in heard[0]] == ["d-1"]


def test_registering_twice_is_a_no_op(monkeypatch):
    monkeypatch.setattr(events, "_listeners", [])

    def listener(applied):
        pass

    events.event_listener_register(listener)
    events.event_listener_register(listener)
    assert events.event_listeners() == (listener,)


def test_refusal_listeners_hear_domain_refusals_only(monkeypatch):
    refused: list = []
    monkeypatch.setattr(events, "_refusal_listeners", [])
    events.event_refusal_listener_register(lambda batch: refused.append(list(batch)))
    events_ingest(events=[event("r-1")])
    events_ingest(
        events=[
            event("r-1"),  # duplicate: not heard
            event("r-1", amount="11.00"),  # idempotency conflict: not heard
            event("r-2", "bet", amount="500.00"),  # insufficient funds: heard
        ]
    )
    [batch] = refused
    assert [(e.external_id, e.reason_code) for e in batch] == [("r-2", "insufficient_funds")]
    assert batch[0].player_external_id == "listen-1" and batch[0].player_id
