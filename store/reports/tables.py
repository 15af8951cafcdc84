"""Reporting tables and indexes (migrations ``0003`` and ``0005``): a narrow per-contact fact table for the metrics
engine, its rollups (by day for the period cube and the duration histograms, by hour for the daily trend series),
the watermarks that keep them up to date incrementally, and indexes the scheduled jobs need.

They extend :data:`store.tables.Base.metadata` (this module imports :mod:`store.tables`, never the reverse);
the ``store`` package imports this module, so any use of the store, and the metadata that Alembic compares with
the database, includes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Double, Index, Integer, PrimaryKeyConstraint, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from store.tables import ID_LENGTH, SHORT_LENGTH, Base, DecisionRow, UtcDateTime

__all__ = ["ROLLUP_SUMS", "ReportFactRow", "ReportStateRow", "report_daily", "report_durations", "report_hourly"]

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


_facts = ReportFactRow.__table__
# Open deadlines (no completing agent event yet) are few: the reports count the ones past due through these.
Index(
    "ix_report_facts_fr_open", _facts.c.decided_at,
    sqlite_where=_facts.c.fr_at.is_(None) & _facts.c.fr_due.is_not(None),
    postgresql_where=_facts.c.fr_at.is_(None) & _facts.c.fr_due.is_not(None),
)  # fmt: skip
Index(
    "ix_report_facts_res_open", _facts.c.decided_at,
    sqlite_where=_facts.c.closed_at.is_(None) & _facts.c.res_due.is_not(None),
    postgresql_where=_facts.c.closed_at.is_(None) & _facts.c.res_due.is_not(None),
)  # fmt: skip

ROLLUP_SUMS = (
    "contacts",
    "repeats",
    "csat_n",
    "csat_sum",
    "csat_sat",
    "fr_met",
    "fr_late",
    "res_met",
    "res_late",
    "frt_n",
)
"""The integer sums every rollup row carries (``fr_late``/``res_late``: deadlines met late; open ones are not
counted here, since whether they are missed depends on when the report asks)."""


def _sums() -> list[Column[object]]:
    return [
        *(Column(name, Integer, nullable=False) for name in ROLLUP_SUMS),
        Column("frt_s", Double, nullable=False),
        Column("latency_ms", Double, nullable=False),
    ]


def _key(name: str) -> Column[object]:
    return Column(name, String(SHORT_LENGTH), nullable=False)


report_daily = Table(
    "report_daily",
    Base.metadata,
    Column("bucket", UtcDateTime(), nullable=False),
    *(_key(name) for name in ("category", "group", "tier", "source", "action", "state")),
    Column("kb_gap", Boolean, nullable=False),
    *_sums(),
    PrimaryKeyConstraint("bucket", "category", "group", "tier", "source", "action", "state", "kb_gap"),
    sqlite_with_rowid=False,
)
"""Customer contacts by UTC day (``bucket``: its midnight) and driver/tier/source/action/outcome. Answers still
``answered`` (inside the resolve window) keep their exact decision time as ``bucket``, so that a report can tell at
any moment which of them the window has closed on."""

report_hourly = Table(
    "report_hourly",
    Base.metadata,
    Column("bucket", UtcDateTime(), nullable=False),
    _key("action"),
    _key("state"),
    *_sums(),
    PrimaryKeyConstraint("bucket", "action", "state"),
    sqlite_with_rowid=False,
)
"""Customer contacts by UTC hour and action/outcome, for the daily trend series (days of any time zone); answers
still ``answered`` keep their exact decision time, as in :data:`report_daily`."""

report_durations = Table(
    "report_durations",
    Base.metadata,
    Column("day", UtcDateTime(), nullable=False),
    _key("metric"),
    Column("bucket", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("total_s", Double, nullable=False),
    PrimaryKeyConstraint("day", "metric", "bucket"),
    sqlite_with_rowid=False,
)
"""First-response (``frt``) and resolution (``res``) time histograms of the hand-offs decided each UTC day."""
