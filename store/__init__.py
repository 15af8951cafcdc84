"""Durable event store: SQLAlchemy tables, Alembic migrations and the SQL :class:`~automations.ports.EventStore`.

Importing the package also imports the report tables (:mod:`store.reports.tables`, which extend
``store.tables.Base.metadata``), so the metadata is complete wherever the store is used; :class:`SqlReportSource` and
its queries load on first use (an acknowledge-only web process never needs them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store import reports as reports
from store.audit import SqlAuditTrail
from store.clocks import SqlRegulatoryClocks
from store.migrate import normalize_url, upgrade
from store.qa import SqlQaRecords
from store.rows import OutcomeTransition
from store.sql import SqlEventStore

if TYPE_CHECKING:
    from store.reports.source import SqlReportSource

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


def __getattr__(name: str) -> Any:
    """``SqlReportSource``, imported on first use (by :mod:`store.reports`)."""
    if name == "SqlReportSource":
        return reports.SqlReportSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
