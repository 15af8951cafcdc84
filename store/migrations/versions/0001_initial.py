"""Initial event-store schema: contacts, decisions, outcomes, outcome_transitions, feedback.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)


def upgrade() -> None:
    """Create the five event-store tables and their reporting indexes."""
    op.create_table(
        "contacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("channel", SHORT, nullable=False),
        sa.Column("source", SHORT, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_table(
        "decisions",
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("category", SHORT, nullable=False),
        sa.Column("group", SHORT, nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("action", SHORT, nullable=False),
        sa.Column("tier", SHORT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("article_id", ID, nullable=True),
        sa.Column("article_url", sa.Text(), nullable=True),
        sa.Column("retrieval_score", sa.Double(), nullable=True),
        sa.Column("injection", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handoff_reason", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("first_response_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_decisions_contact_id_contacts")),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])
    op.create_index("ix_decisions_category", "decisions", ["category"])
    op.create_table(
        "outcomes",
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("category", SHORT, nullable=False),
        sa.Column("group", SHORT, nullable=False),
        sa.Column("state", SHORT, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["decisions.contact_id"], name=op.f("fk_outcomes_contact_id_decisions")
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_outcomes")),
    )
    op.create_index("ix_outcomes_customer_id_decided_at", "outcomes", ["customer_id", "decided_at"])
    op.create_index("ix_outcomes_state_decided_at", "outcomes", ["state", "decided_at"])
    op.create_table(
        "outcome_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("from_state", SHORT, nullable=True),
        sa.Column("to_state", SHORT, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["outcomes.contact_id"], name=op.f("fk_outcome_transitions_contact_id_outcomes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_transitions")),
    )
    op.create_index("ix_outcome_transitions_contact_id", "outcome_transitions", ["contact_id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("source", SHORT, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name=op.f("ck_feedback_csat_range")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["decisions.contact_id"], name=op.f("fk_feedback_contact_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_contact_id", "feedback", ["contact_id"])
    op.create_index("ix_feedback_at", "feedback", ["at"])


def downgrade() -> None:
    """Drop everything :func:`upgrade` created, dependants first."""
    op.drop_index("ix_feedback_at", table_name="feedback")
    op.drop_index("ix_feedback_contact_id", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_outcome_transitions_contact_id", table_name="outcome_transitions")
    op.drop_table("outcome_transitions")
    op.drop_index("ix_outcomes_state_decided_at", table_name="outcomes")
    op.drop_index("ix_outcomes_customer_id_decided_at", table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index("ix_decisions_category", table_name="decisions")
    op.drop_index("ix_decisions_decided_at", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("contacts")
