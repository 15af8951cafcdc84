"""Record how each answer was written (extractive, llm:<prompt>@<version>, extractive_fallback:<reason>).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``decisions.answer_method``."""
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("answer_method", sa.String(128), nullable=True))


def downgrade() -> None:
    """Drop ``decisions.answer_method``."""
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("answer_method")
