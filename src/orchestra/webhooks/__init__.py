"""Webhooks of a project: events sent, signed, from an outbox (docs/webhooks.md)."""
