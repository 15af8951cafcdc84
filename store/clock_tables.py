"""The regulatory clocks' table (migration ``0007``): one row per deadline of a decision, unique by contact and rule.

It extends :data:`store.tables.Base.metadata` (this module imports :mod:`store.tables`, never the reverse); the
``store`` package imports this module, so the metadata Alembic compares with the database includes it. Rows carry
``contact_id`` and ``customer_id``, the columns a privacy export or erasure looks for. ``due`` is stored in UTC like
every timestamp, with the offset it was computed in (that of the contact's ``received_at``) beside it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables import ID_LENGTH, SHORT_LENGTH, Base

__all__ = ["ClockRow"]


class ClockRow(Base):
    """One :class:`~automations.deadlines.RegulatoryClock`."""

    __tablename__ = "regulatory_clocks"
    __table_args__ = (
        Index("ix_regulatory_clocks_state_due", "state", "due"),
        Index("ix_regulatory_clocks_customer_id_rule", "customer_id", "rule"),
        Index("ix_regulatory_clocks_conversation_id", "conversation_id"),
        Index("ix_regulatory_clocks_started_at", "started_at"),
    )

    contact_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    rule: Mapped[str] = mapped_column(String(SHORT_LENGTH), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    conversation_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    category: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    tier: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    internal: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    due: Mapped[datetime]
    due_offset_min: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    breached_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
