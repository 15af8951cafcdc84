"""Reporting: the per-contact fact table, its refresh watermarks, and SLA deadline indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``report_facts`` and ``report_state``; index the hand-off deadlines the SLA job scans."""
    op.create_index("ix_decisions_first_response_due", "decisions", ["first_response_due"])
    op.create_index("ix_decisions_resolution_due", "decisions", ["resolution_due"])
    op.create_table(
        "report_facts",
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
        sa.PrimaryKeyConstraint("decided_at", "contact_id", name=op.f("pk_report_facts")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_report_facts_contact_id", "report_facts", ["contact_id"], unique=True)
    op.create_table(
        "report_state",
        sa.Column("name", SHORT, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_report_state")),
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_table("report_state")
    op.drop_index("ix_report_facts_contact_id", table_name="report_facts")
    op.drop_table("report_facts")
    op.drop_index("ix_decisions_resolution_due", table_name="decisions")
    op.drop_index("ix_decisions_first_response_due", table_name="decisions")
