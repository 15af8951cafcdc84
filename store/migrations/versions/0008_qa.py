"""Conversation capture and QA: transcript turns, QA scores and manager grades (issue 18).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "transcript_turns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("author", SHORT, nullable=False),
        sa.Column("kind", SHORT, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("actor_name", ID, nullable=True),
        sa.Column("contact_id", ID, nullable=True),
        sa.Column("customer_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_transcript_turns"),
        sa.UniqueConstraint("key", name="uq_transcript_turns_key"),
    )
    op.create_index("ix_transcript_turns_conversation_id_at", "transcript_turns", ["conversation_id", "at"])
    op.create_table(
        "qa_scores",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("agent_name", ID, nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("critical_fails", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("scored_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("category", SHORT, nullable=True),
        sa.Column("tier", SHORT, nullable=True),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("contact_id", ID, nullable=True),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_qa_scores"),
    )
    op.create_index("ix_qa_scores_scored_at", "qa_scores", ["scored_at"])
    op.create_index("ix_qa_scores_agent_id", "qa_scores", ["agent_id"])
    op.create_table(
        "qa_grades",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("grader", ID, nullable=False),
        sa.Column("criterion", SHORT, nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("scorer_value", sa.Double(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_qa_grades"),
    )
    op.create_index("ix_qa_grades_at", "qa_grades", ["at"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_qa_grades_at", table_name="qa_grades")
    op.drop_table("qa_grades")
    op.drop_index("ix_qa_scores_agent_id", table_name="qa_scores")
    op.drop_index("ix_qa_scores_scored_at", table_name="qa_scores")
    op.drop_table("qa_scores")
    op.drop_index("ix_transcript_turns_conversation_id_at", table_name="transcript_turns")
    op.drop_table("transcript_turns")
