"""SQL implementation of the :class:`~automations.audit.AuditTrail` port (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.audit import AuditEvent
from store.audit_tables import AuditEventRow
from store.tables import Base

__all__ = ["SqlAuditTrail"]

_audit = Base.metadata.tables[AuditEventRow.__tablename__]


def _values(event: AuditEvent) -> dict[str, object]:
    return {"kind": event.kind, "subject": event.subject, "at": event.at, "actor": event.actor, "detail": event.detail}


class SqlAuditTrail:
    """The append-only audit trail in the ``audit_events`` table of the event store's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (already migrated, e.g. ``SqlEventStore.engine``)."""
        self._engine = engine

    async def append(self, event: AuditEvent) -> None:
        """Insert one row (nothing here updates or deletes one)."""
        await self.append_many([event])

    async def append_many(self, events: Sequence[AuditEvent]) -> None:
        """Insert the rows in one transaction and one statement, in order (their ids keep the order among equal
        times: a multi-row ``VALUES`` numbers its rows in order)."""
        if not events:
            return
        async with self._engine.begin() as conn:
            await conn.execute(insert(_audit).values([_values(event) for event in events]))

    async def events(
        self, *, subject: str | None = None, kind_prefix: str = "", since: datetime | None = None
    ) -> list[AuditEvent]:
        """Events oldest first (appended order among equal times), optionally filtered."""
        query = select(_audit).order_by(_audit.c.at, _audit.c.id)
        if subject is not None:
            query = query.where(_audit.c.subject == subject)
        if kind_prefix:
            query = query.where(_audit.c.kind.startswith(kind_prefix, autoescape=True))
        if since is not None:
            query = query.where(_audit.c.at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [AuditEvent(r.kind, r.subject, r.at, r.actor, r.detail) for r in rows]
