"""Intercom adapter: signed webhooks in; replies, notes, assignments and tags out through the outbox."""
