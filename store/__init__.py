"""Durable event store: SQLAlchemy tables, Alembic migrations and the SQL :class:`~automations.ports.EventStore`.

Importing the package also imports :mod:`store.reports` (whose tables extend ``store.tables.Base.metadata``), so the
metadata is complete wherever the store is used.
"""

from __future__ import annotations

from store.audit import SqlAuditTrail
from store.clocks import SqlRegulatoryClocks
from store.migrate import normalize_url, upgrade
from store.qa import SqlQaRecords
from store.reports import SqlReportSource
from store.rows import OutcomeTransition
from store.sql import SqlEventStore

__all__ = [
    "OutcomeTransition",
    "SqlAuditTrail",
    "SqlEventStore",
    "SqlQaRecords",
    "SqlRegulatoryClocks",
    "SqlReportSource",
    "normalize_url",
    "upgrade",
]
