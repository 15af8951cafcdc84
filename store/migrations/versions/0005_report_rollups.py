"""Reports: repeat contacts in the fact table.

The fact table is derived data, so it is recreated (with its new column) and its watermarks are cleared: the next
refresh rebuilds it from the event store.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

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
    columns: list[sa.Column[object]] = [
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


def upgrade() -> None:
    """Recreate ``report_facts`` with ``repeat``; clear the watermarks so that the next refresh rebuilds it."""
    _drop_facts()
    _facts(repeat=True)


def downgrade() -> None:
    """Back to the 0004 fact table (rebuilt by the next refresh)."""
    _drop_facts()
    _facts(repeat=False)
