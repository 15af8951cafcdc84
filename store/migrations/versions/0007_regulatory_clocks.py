"""Regulatory clocks: each decision's deadlines, their state and their alerts (issue 17).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``regulatory_clocks`` (one row per contact and rule) with its state, customer and time indexes."""
    op.create_table(
        "regulatory_clocks",
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("rule", SHORT, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("category", SHORT, nullable=False),
        sa.Column("tier", SHORT, nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("due", TS, nullable=False),
        sa.Column("due_offset_min", sa.Integer(), nullable=False),
        sa.Column("state", SHORT, nullable=False),
        sa.Column("breached_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "rule", name=op.f("pk_regulatory_clocks")),
    )
    op.create_index("ix_regulatory_clocks_state_due", "regulatory_clocks", ["state", "due"])
    op.create_index("ix_regulatory_clocks_customer_id_rule", "regulatory_clocks", ["customer_id", "rule"])
    op.create_index("ix_regulatory_clocks_conversation_id", "regulatory_clocks", ["conversation_id"])
    op.create_index("ix_regulatory_clocks_started_at", "regulatory_clocks", ["started_at"])


def downgrade() -> None:
    """Drop ``regulatory_clocks``."""
    for name in ("started_at", "conversation_id", "customer_id_rule", "state_due"):
        op.drop_index(f"ix_regulatory_clocks_{name}", table_name="regulatory_clocks")
    op.drop_table("regulatory_clocks")
