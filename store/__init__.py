"""Durable event store: SQLAlchemy tables, Alembic migrations and the SQL :class:`~automations.ports.EventStore`.

Every name below loads on first use, so an acknowledge-only web process imports only what its inbox needs (the QA,
clock, audit and report modules stay out of it). Code that must see every table takes
:data:`store.schema.METADATA`, which imports them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.audit import SqlAuditTrail
    from store.clocks import SqlRegulatoryClocks
    from store.migrate import normalize_url, upgrade
    from store.qa import SqlQaRecords
    from store.reports.source import SqlReportSource
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

_HOME = {
    "OutcomeTransition": "store.rows",
    "SqlAuditTrail": "store.audit",
    "SqlEventStore": "store.sql",
    "SqlQaRecords": "store.qa",
    "SqlRegulatoryClocks": "store.clocks",
    "SqlReportSource": "store.reports.source",
    "normalize_url": "store.migrate",
    "upgrade": "store.migrate",
}


def __getattr__(name: str) -> Any:
    """The public names, each imported from its module on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
