"""Outgoing webhooks: signed, delivered after commit, retried, logged and re-sendable."""
