"""Reporting indexes: SLA deadlines (see automations/store/report_tables.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index the hand-off deadlines the SLA job scans."""
    op.create_index("ix_decisions_first_response_due", "decisions", ["first_response_due"])
    op.create_index("ix_decisions_resolution_due", "decisions", ["resolution_due"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_decisions_resolution_due", table_name="decisions")
    op.drop_index("ix_decisions_first_response_due", table_name="decisions")
