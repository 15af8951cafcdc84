"""Audit trail: append-only rows for regulatory clocks and privacy actions (issue 17).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``audit_events`` with its subject and time indexes."""
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", SHORT, nullable=False),
        sa.Column("subject", ID, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_subject_at", "audit_events", ["subject", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    """Drop ``audit_events``."""
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_subject_at", table_name="audit_events")
    op.drop_table("audit_events")
