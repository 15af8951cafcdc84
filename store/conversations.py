"""SQL implementation of the conversation-state port (SQLite or PostgreSQL): who handles a conversation, and the
human actions recorded against a decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.conversations import AgentEvent, AgentEventKind, ConversationState
from store.tables import AgentEventRow, Base, ConversationRow

__all__ = ["SqlConversations"]

_conversations = Base.metadata.tables[ConversationRow.__tablename__]
_events = Base.metadata.tables[AgentEventRow.__tablename__]


class SqlConversations:
    """The :class:`~automations.conversations.Conversations` port over the event store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (already migrated)."""
        self._engine = engine

    async def get(self, conversation_id: str) -> ConversationState | None:
        """Return the conversation's state."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(_conversations).where(_conversations.c.id == conversation_id))).first()
        return None if row is None else self._state(row)

    @staticmethod
    def _state(row: Any) -> ConversationState:
        return ConversationState(row.id, row.updated_at, row.last_contact_id, row.human_since, row.closed_at)

    async def _upsert(self, conversation_id: str, at: datetime, **values: Any) -> int:
        async with self._engine.begin() as conn:
            found = await conn.scalar(select(_conversations.c.id).where(_conversations.c.id == conversation_id))
            if found is None:
                row = {"id": conversation_id, "updated_at": at, "last_contact_id": None, "human_since": None}
                await conn.execute(insert(_conversations).values({**row, "closed_at": None, **values}))
                return 1
            query = update(_conversations).where(_conversations.c.id == conversation_id)
            if "human_since" in values:
                query = query.where(_conversations.c.human_since.is_(None))
            result = await conn.execute(query.values(updated_at=at, **values))
            return int(result.rowcount or 0)

    async def set_last_contact(self, conversation_id: str, contact_id: str, *, at: datetime) -> None:
        """Remember the conversation's latest contact."""
        await self._upsert(conversation_id, at, last_contact_id=contact_id)

    async def get_many(self, conversation_ids: Sequence[str]) -> dict[str, ConversationState]:
        """The known states among ``conversation_ids`` (one query)."""
        if not conversation_ids:
            return {}
        query = select(_conversations).where(_conversations.c.id.in_(list(set(conversation_ids))))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.id: self._state(row) for row in rows}

    async def set_last_contacts(self, latest: Sequence[tuple[str, str]], *, at: datetime) -> None:
        """Several latest contacts in one transaction (the last pair wins for a repeated conversation); a concurrent
        writer creating one of the rows first (PostgreSQL) makes the batch settle one pair at a time."""
        wanted = dict(latest)
        if not wanted:
            return
        try:
            async with self._engine.begin() as conn:
                query = select(_conversations.c.id).where(_conversations.c.id.in_(list(wanted)))
                known = set((await conn.scalars(query)).all())
                fresh = [{"id": c, "updated_at": at, "last_contact_id": contact, "human_since": None, "closed_at": None}
                         for c, contact in wanted.items() if c not in known]  # fmt: skip
                if fresh:
                    await conn.execute(insert(_conversations), fresh)
                if known:
                    update_one = (
                        update(_conversations)
                        .where(_conversations.c.id == bindparam("conversation"))
                        .values(updated_at=at, last_contact_id=bindparam("contact"))
                    )
                    await conn.execute(update_one, [{"conversation": c, "contact": wanted[c]} for c in known])
        except IntegrityError:
            for conversation_id, contact_id in wanted.items():
                await self.set_last_contact(conversation_id, contact_id, at=at)

    async def human_took_over(self, conversation_id: str, *, at: datetime) -> bool:
        """Silence the bot; ``True`` when this call did it."""
        return await self._upsert(conversation_id, at, human_since=at) > 0

    async def closed(self, conversation_id: str, *, at: datetime) -> None:
        """Record the close."""
        await self._upsert(conversation_id, at, closed_at=at)

    async def record_agent_event(self, event: AgentEvent) -> bool:
        """Append the event; ``first_response`` only once per contact."""
        async with self._engine.begin() as conn:
            if event.kind is AgentEventKind.FIRST_RESPONSE:
                exists = await conn.scalar(
                    select(_events.c.id).where(
                        _events.c.contact_id == event.contact_id, _events.c.kind == event.kind.value
                    )
                )
                if exists is not None:
                    return False
            await conn.execute(
                insert(_events).values(
                    contact_id=event.contact_id,
                    kind=event.kind.value,
                    at=event.at,
                    actor=event.actor,
                    detail=event.detail,
                )
            )
        return True

    async def agent_events(self, contact_id: str) -> list[AgentEvent]:
        """Every human action on a contact, oldest first."""
        query = select(_events).where(_events.c.contact_id == contact_id).order_by(_events.c.at, _events.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [AgentEvent(r.contact_id, AgentEventKind(r.kind), r.at, r.actor, r.detail) for r in rows]
