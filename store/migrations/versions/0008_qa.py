"""Conversation capture and QA: transcript turns, QA scores and manager grades (issue 18).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Placeholder until its tables land."""


def downgrade() -> None:
    """Placeholder until its tables land."""
