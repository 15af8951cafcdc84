"""Indexes the reports and scheduled jobs need on the event-store tables (migration ``0003``).

Imported at the end of :mod:`automations.store.tables`, so the metadata that Alembic compares with the database
includes them.
"""

from __future__ import annotations

from sqlalchemy import Index

from automations.store.tables import DecisionRow

__all__ = ["REPORT_INDEXES"]

_decisions = DecisionRow.__table__

REPORT_INDEXES = (
    # the SLA job looks for open deadlines by due date every minute
    Index("ix_decisions_first_response_due", _decisions.c.first_response_due),
    Index("ix_decisions_resolution_due", _decisions.c.resolution_due),
)
