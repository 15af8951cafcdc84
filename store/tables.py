"""Relational schema of the event store, portable between SQLite and PostgreSQL.

Every timestamp is stored in UTC. PostgreSQL keeps it as ``timestamptz``; SQLite has no time-zone support, so
:class:`UtcDateTime` stores naive UTC there and turns values back into aware UTC datetimes on read. Texts are
redacted before they get here: the ``contacts`` table never holds raw customer input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "NAMING_CONVENTION",
    "AgentEventRow",
    "Base",
    "ContactRow",
    "ConversationRow",
    "DecisionRow",
    "FeedbackRow",
    "InboxRow",
    "OutboxRow",
    "OutcomeRow",
    "OutcomeTransitionRow",
    "UtcDateTime",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 255
SHORT_LENGTH = 64


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC and always read back as an aware UTC datetime.

    Naive datetimes are rejected on write: the store cannot know which zone they were meant in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC on SQLite, which cannot store an offset)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the event store needs timezone-aware datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the backend handed back."""
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - defensive; both drivers return datetimes
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base whose metadata carries stable constraint names (needed for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class ContactRow(Base):
    """One inbound contact; ``text`` is the redacted text only."""

    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    conversation_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    channel: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    source: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class DecisionRow(Base):
    """The pipeline's decision on a contact, with the hand-off details when it was handed to a human."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_decided_at", "decided_at"),
        Index("ix_decisions_category", "category"),
    )

    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("contacts.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    group: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    confidence: Mapped[float] = mapped_column(Double)
    action: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    tier: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)
    article_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    article_url: Mapped[str | None] = mapped_column(Text)
    retrieval_score: Mapped[float | None] = mapped_column(Double)
    answer_method: Mapped[str | None] = mapped_column(String(SHORT_LENGTH * 2))
    injection: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Double)
    decided_at: Mapped[datetime]
    handoff_reason: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]


class OutcomeRow(Base):
    """Current deflection outcome of a decision (denormalised for reporting)."""

    __tablename__ = "outcomes"
    __table_args__ = (
        Index("ix_outcomes_customer_id_decided_at", "customer_id", "decided_at"),
        Index("ix_outcomes_state_decided_at", "state", "decided_at"),
    )

    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("decisions.contact_id"), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    category: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    group: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    state: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    decided_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class OutcomeTransitionRow(Base):
    """One step of an outcome's history; the first row of a contact has no ``from_state``."""

    __tablename__ = "outcome_transitions"
    __table_args__ = (Index("ix_outcome_transitions_contact_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("outcomes.contact_id"))
    from_state: Mapped[str | None] = mapped_column(String(SHORT_LENGTH))
    to_state: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class FeedbackRow(Base):
    """Customer or agent feedback on a decision."""

    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_contact_id", "contact_id"),
        Index("ix_feedback_at", "at"),
        CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="csat_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("decisions.contact_id"))
    at: Mapped[datetime]
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    comment: Mapped[str] = mapped_column(Text)


class AgentEventRow(Base):
    """What humans did with a decision: ``first_response``, ``assigned``, ``claimed``, ``closed``, ``csat``."""

    __tablename__ = "agent_events"
    __table_args__ = (
        Index("ix_agent_events_contact_id_kind", "contact_id", "kind"),
        Index("ix_agent_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("decisions.contact_id"))
    kind: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    detail: Mapped[str] = mapped_column(Text, default="")


class ConversationRow(Base):
    """State of one external conversation: its latest contact, and whether a human has taken it over."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    last_contact_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    human_since: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class InboxRow(Base):
    """A received delivery, unique by id, persisted before it is acknowledged (payload is redacted JSON)."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_available_at", "status", "available_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    source: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    kind: Mapped[str] = mapped_column(String(ID_LENGTH))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer)
    available_at: Mapped[datetime]
    error: Mapped[str] = mapped_column(Text)
    done_at: Mapped[datetime | None]


class OutboxRow(Base):
    """An effect to perform on Intercom or Slack, unique by idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_available_at", "status", "available_at"),)

    key: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    target: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    kind: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer)
    available_at: Mapped[datetime]
    error: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
