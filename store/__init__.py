"""Durable event store: SQLAlchemy tables, Alembic migrations and the SQL :class:`~automations.ports.EventStore`."""

from __future__ import annotations

from store.migrate import normalize_url, upgrade
from store.rows import OutcomeTransition
from store.sql import SqlEventStore

__all__ = ["OutcomeTransition", "SqlEventStore", "normalize_url", "upgrade"]
