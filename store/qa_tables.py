"""Tables of conversation capture and QA (migration 0008): transcript turns, QA scores and manager grades.

Texts are redacted before they get here. Each table names the customer or conversation it is about
(``customer_id``, ``contact_id``, ``conversation_id``), so the privacy export and erase find its rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Double, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables import ID_LENGTH, SHORT_LENGTH, Base

__all__ = ["QaGradeRow", "QaScoreRow", "TranscriptTurnRow"]


class TranscriptTurnRow(Base):
    """One captured turn of a conversation (customer, bot or agent message, assignment, close, rating)."""

    __tablename__ = "transcript_turns"
    __table_args__ = (Index("ix_transcript_turns_conversation_id_at", "conversation_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    author: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    kind: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    actor_name: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    contact_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))


class QaScoreRow(Base):
    """A scored conversation (the first score stands)."""

    __tablename__ = "qa_scores"
    __table_args__ = (Index("ix_qa_scores_scored_at", "scored_at"), Index("ix_qa_scores_agent_id", "agent_id"))

    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    agent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    agent_name: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    score: Mapped[int] = mapped_column(Integer)
    critical_fails: Mapped[str] = mapped_column(Text)  # JSON list of ids
    criteria: Mapped[str] = mapped_column(Text)  # JSON object id -> 0..1 or null
    evidence: Mapped[str] = mapped_column(Text)  # JSON object id -> redacted sentence
    scored_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    category: Mapped[str | None] = mapped_column(String(SHORT_LENGTH))
    tier: Mapped[str | None] = mapped_column(String(SHORT_LENGTH))
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    contact_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class QaGradeRow(Base):
    """A manager's calibration grade of one criterion of a scored conversation."""

    __tablename__ = "qa_grades"
    __table_args__ = (Index("ix_qa_grades_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    grader: Mapped[str] = mapped_column(String(ID_LENGTH))
    criterion: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    value: Mapped[float | None] = mapped_column(Double)
    scorer_value: Mapped[float | None] = mapped_column(Double)
    at: Mapped[datetime]
