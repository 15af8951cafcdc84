"""The audit trail's table (migration ``0006``): append-only rows for regulatory clocks and privacy actions.

It extends :data:`store.tables.Base.metadata` (this module imports :mod:`store.tables`, never the reverse); the
``store`` package imports this module, so the metadata Alembic compares with the database includes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables import ID_LENGTH, SHORT_LENGTH, Base

__all__ = ["AuditEventRow"]


class AuditEventRow(Base):
    """One :class:`~automations.audit.AuditEvent`; ``id`` keeps the order of events appended at the same instant.

    Rows are only inserted, never updated or deleted, with one exception: erasing a customer
    (:mod:`store.privacy`) replaces their identifiers in ``subject`` and ``detail`` by an irreversible token, so
    the trail keeps every event without keeping the person.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject_at", "subject", "at"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    subject: Mapped[str] = mapped_column(String(ID_LENGTH))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(ID_LENGTH))
    detail: Mapped[str] = mapped_column(Text)
