"""Audit trail: append-only rows for regulatory clocks and privacy actions (issue 17).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Placeholder until its tables land."""


def downgrade() -> None:
    """Placeholder until its tables land."""
