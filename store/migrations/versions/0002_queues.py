"""Inbox, outbox, conversations and agent events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
SHORT = sa.String(64)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the queue tables and the agent/conversation state tables."""
    op.create_table(
        "agent_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("kind", SHORT, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", ID, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["decisions.contact_id"], name=op.f("fk_agent_events_contact_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_events")),
    )
    op.create_index("ix_agent_events_contact_id_kind", "agent_events", ["contact_id", "kind"])
    op.create_index("ix_agent_events_at", "agent_events", ["at"])
    op.create_table(
        "conversations",
        sa.Column("id", ID, nullable=False),
        sa.Column("last_contact_id", ID, nullable=True),
        sa.Column("human_since", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "inbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", SHORT, nullable=False),
        sa.Column("kind", ID, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
    )
    op.create_index("ix_inbox_status_available_at", "inbox", ["status", "available_at"])
    op.create_table(
        "outbox",
        sa.Column("key", ID, nullable=False),
        sa.Column("target", SHORT, nullable=False),
        sa.Column("kind", SHORT, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_status_available_at", "outbox", ["status", "available_at"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_outbox_status_available_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_inbox_status_available_at", table_name="inbox")
    op.drop_table("inbox")
    op.drop_table("conversations")
    op.drop_index("ix_agent_events_at", table_name="agent_events")
    op.drop_index("ix_agent_events_contact_id_kind", table_name="agent_events")
    op.drop_table("agent_events")
