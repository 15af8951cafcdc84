"""Reports: repeat contacts in the fact table, partial indexes on its open deadlines, and its rollups (by day for
the period cube and the duration histograms, by hour for the daily series).

The fact table and the rollups are derived data: the fact table is recreated (with its new column) and the
watermarks are cleared, so the next refresh rebuilds them all from the event store.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)
TS = sa.DateTime(timezone=True)


def _facts(*, repeat: bool) -> None:
    columns: list[sa.Column[Any]] = [
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("channel", SHORT, nullable=False),
        sa.Column("source", SHORT, nullable=False),
        sa.Column("category", SHORT, nullable=False),
        sa.Column("group", SHORT, nullable=False),
        sa.Column("tier", SHORT, nullable=False),
        sa.Column("action", SHORT, nullable=False),
        sa.Column("state", SHORT, nullable=False),
        sa.Column("kb_gap", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("fr_due", TS, nullable=True),
        sa.Column("res_due", TS, nullable=True),
        sa.Column("fr_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("csat_n", sa.Integer(), nullable=False),
        sa.Column("csat_sum", sa.Integer(), nullable=False),
        sa.Column("csat_sat", sa.Integer(), nullable=False),
    ]
    if repeat:
        columns.append(sa.Column("repeat", sa.Boolean(), nullable=False))
    op.create_table(
        "report_facts",
        *columns,
        sa.PrimaryKeyConstraint("decided_at", "contact_id", name=op.f("pk_report_facts")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_report_facts_contact_id", "report_facts", ["contact_id"], unique=True)


def _drop_facts() -> None:
    op.drop_index("ix_report_facts_contact_id", table_name="report_facts")
    op.drop_table("report_facts")
    op.execute(sa.text("DELETE FROM report_state"))


def _sums() -> list[sa.Column[Any]]:
    names = (
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
    return [
        *(sa.Column(name, sa.Integer(), nullable=False) for name in names),
        sa.Column("frt_s", sa.Double(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
    ]


def _open_indexes() -> None:
    for name, done, due in (("ix_report_facts_fr_open", "fr_at", "fr_due"),
                            ("ix_report_facts_res_open", "closed_at", "res_due")):  # fmt: skip
        where = sa.text(f"{done} IS NULL AND {due} IS NOT NULL")
        op.create_index(name, "report_facts", ["decided_at"], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    """Recreate ``report_facts`` with ``repeat`` and open-deadline indexes, create the rollups, and clear the
    watermarks so that the next refresh rebuilds them."""
    _drop_facts()
    _facts(repeat=True)
    _open_indexes()
    keys = ("category", "group", "tier", "source", "action", "state")
    op.create_table(
        "report_daily",
        sa.Column("bucket", TS, nullable=False),
        *(sa.Column(key, SHORT, nullable=False) for key in keys),
        sa.Column("kb_gap", sa.Boolean(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("bucket", *keys, "kb_gap", name=op.f("pk_report_daily")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_hourly",
        sa.Column("bucket", TS, nullable=False),
        sa.Column("action", SHORT, nullable=False),
        sa.Column("state", SHORT, nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("bucket", "action", "state", name=op.f("pk_report_hourly")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_durations",
        sa.Column("day", TS, nullable=False),
        sa.Column("metric", SHORT, nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_s", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "bucket", name=op.f("pk_report_durations")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop the rollups and go back to the 0004 fact table (rebuilt by the next refresh)."""
    op.drop_table("report_durations")
    op.drop_table("report_hourly")
    op.drop_table("report_daily")
    op.drop_index("ix_report_facts_res_open", table_name="report_facts")
    op.drop_index("ix_report_facts_fr_open", table_name="report_facts")
    _drop_facts()
    _facts(repeat=False)
