"""Reporting tables and indexes (migration ``0003``): a narrow per-contact fact table for the metrics engine, the
watermarks that keep it up to date incrementally, and indexes the scheduled jobs need.

They extend :data:`store.tables.Base.metadata` (this module imports :mod:`store.tables`, never the reverse);
the ``store`` package imports this module, so any use of the store, and the metadata that Alembic compares with
the database, includes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.tables import ID_LENGTH, SHORT_LENGTH, Base, DecisionRow

__all__ = ["ReportFactRow", "ReportStateRow"]

_decisions = DecisionRow.__table__

# The SLA job looks for open deadlines by due date every minute. An Index on bound columns attaches itself to the table.
Index("ix_decisions_first_response_due", _decisions.c.first_response_due)
Index("ix_decisions_resolution_due", _decisions.c.resolution_due)


class ReportFactRow(Base):
    """Everything the metrics engine needs about one contact, in one narrow row (derived; rebuildable).

    Clustered by decision time (``WITHOUT ROWID`` on SQLite), so a period is one sequential range scan.
    """

    __tablename__ = "report_facts"
    __table_args__ = (Index("ix_report_facts_contact_id", "contact_id", unique=True), {"sqlite_with_rowid": False})

    decided_at: Mapped[datetime] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    received_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    source: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    category: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    group: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    tier: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    action: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    state: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    kb_gap: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Double)
    fr_due: Mapped[datetime | None]
    res_due: Mapped[datetime | None]
    fr_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    csat_n: Mapped[int] = mapped_column(Integer)
    csat_sum: Mapped[int] = mapped_column(Integer)
    csat_sat: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[bool] = mapped_column(Boolean)


class ReportStateRow(Base):
    """Watermarks of the fact table's incremental refresh: the last id of each source table already applied."""

    __tablename__ = "report_state"

    name: Mapped[str] = mapped_column(String(SHORT_LENGTH), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
