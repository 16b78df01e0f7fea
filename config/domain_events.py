"""Domain events: what Pitboss did, told to whoever listens (webhooks today), in the same
transaction as the change (SPEC §10 "Outgoing webhooks", ADR 0009).

Any app emits (`domain_events_emit`) inside the transaction that made the change; sinks that an
app registered in `AppConfig.ready()` (`domain_event_sink_register`) receive the events in that
transaction, so an outbox row written by a sink commits or rolls back with the change itself.
This module sits below every app and knows none of them: emitters and sinks meet here.

Types and their `data` (JSON-ready: amounts as decimal strings, times ISO 8601):
- `bonus.granted`, `bonus.completed`, `bonus.expired`, `bonus.forfeited` (wallet)
- `segment.changed` (players), `import.finished` (importer)
- `reward.issued`, `reward.rejected` (rewards), `fraud.flagged` (safety)
"""

from collections.abc import Callable, Sequence
from typing import Protocol

EVENT_TYPES = (
    "reward.issued",
    "reward.rejected",
    "bonus.granted",
    "bonus.completed",
    "bonus.expired",
    "bonus.forfeited",
    "segment.changed",
    "fraud.flagged",
    "import.finished",
)


class DomainEventSink(Protocol):
    def subscribers(self, event_type: str) -> Sequence:
        """Who wants `event_type` now (empty: nobody; the emitter then builds no data)."""

    def write(self, event_type: str, items: Sequence[dict], subscribers: Sequence) -> None:
        """Store the events for `subscribers` (what `subscribers()` answered just before)."""


_sinks: list[DomainEventSink] = []


def domain_event_sink_register(sink: DomainEventSink) -> None:
    """Add a sink (idempotent). `sink.write` runs inside the emitter's transaction."""
    if sink not in _sinks:
        _sinks.append(sink)


def domain_events_emit(event_type: str, items: Sequence[dict] | Callable[[], Sequence[dict]]):
    """Hand `items` (one `data` dict per event) of `event_type` to every sink that wants it.

    `items` may be a callable, called only if some sink wants the type (set-based emitters pass
    a query). Call inside the transaction of the change; raises ValueError for an unknown type.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown domain event type {event_type!r}")
    wanting = [(sink, sink.subscribers(event_type)) for sink in _sinks]
    wanting = [(sink, subscribers) for sink, subscribers in wanting if subscribers]
    if not wanting:
        return
    batch = list(items() if callable(items) else items)
    if batch:
        for sink, subscribers in wanting:
            sink.write(event_type, batch, subscribers)
