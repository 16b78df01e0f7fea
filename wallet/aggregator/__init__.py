"""The wallet's door for game aggregators (docs/aggregator.md).

An aggregator calls the wallet for sessions, balances, bets, wins and cancels; every money
movement goes through the one ingestion path (`wallet.events.events_ingest`) with the
aggregator's own event `source`, so the ledger, the idempotency receipts, the bonus rules and the
event listeners are the same as for `POST /api/v1/events/`.

- `sessions.py`: aggregators and their hashed API tokens, game sessions Pitboss issues.
- `catalogue.py`: the game catalogue (aggregator game id → wagering category).
- `valkyrie.py`: the operator side of the Valkyrie PAM API; `valkyrie_wire.py` its JSON and body
  schema; `urls.py` its routes, mounted by config/urls.py under `/api/aggregators/valkyrie/`.
- `api.py`: `POST /api/v1/players/{id}/game-sessions/`, where the casino asks for a launch token.
"""
