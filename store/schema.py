"""The event store's complete schema.

Tables are declared on :data:`store.tables.Base` by several modules (the core tables, reports, QA, regulatory clocks,
the audit trail). Importing this module imports every one of them, so :data:`METADATA` is complete: whatever walks
all tables (creating a database at head, Alembic's ``env.py``, erasure, export and retention) takes them from here,
while a process that only acknowledges webhooks imports no more than the inbox needs.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from store import audit_tables as audit_tables
from store import clock_tables as clock_tables
from store import qa_tables as qa_tables
from store.reports import tables as tables
from store.tables import Base

__all__ = ["METADATA"]

METADATA: MetaData = Base.metadata
"""Every table of the event store (``tests/test_store.py`` checks that no declaring module is missing)."""
