"""In-memory fakes of the inbox, outbox and conversation-state ports (same semantics as the SQL versions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from automations.conversations import AgentEvent, AgentEventKind, ConversationState
from automations.queues import InboxItem, ItemStatus, OutboxAction

__all__ = ["InMemoryConversations", "InMemoryInbox", "InMemoryOutbox"]


class InMemoryInbox:
    """Inbox held in a dict; leases work exactly as in :class:`~store.queues.SqlInbox`."""

    def __init__(self) -> None:
        self.items: dict[str, InboxItem] = {}
        self._available: dict[str, datetime] = {}

    async def accept(self, item: InboxItem) -> bool:
        """Keep the first delivery of each id."""
        if item.id in self.items:
            return False
        self.items[item.id] = replace(item, attempts=0, status=ItemStatus.PENDING)
        self._available[item.id] = item.received_at
        return True

    async def accept_many(self, items: Sequence[InboxItem]) -> list[bool]:
        """Keep the first delivery of each id, for a batch."""
        return [await self.accept(item) for item in items]

    async def claim(self, *, now: datetime, lease: timedelta, limit: int = 16) -> list[InboxItem]:
        """Lease due items, oldest first."""
        due = [i for i in self.items.values() if i.status is ItemStatus.PENDING and self._available[i.id] <= now]
        due.sort(key=lambda i: (i.received_at, i.id))
        claimed = []
        for item in due[:limit]:
            self._available[item.id] = now + lease
            self.items[item.id] = claimed_item = replace(item, attempts=item.attempts + 1)
            claimed.append(claimed_item)
        return claimed

    async def complete(self, item_id: str, *, now: datetime) -> None:
        """Mark processed."""
        self.items[item_id] = replace(self.items[item_id], status=ItemStatus.DONE)

    async def complete_many(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Mark several processed."""
        for item_id in item_ids:
            await self.complete(item_id, now=now)

    async def retry(self, item_id: str, *, error: str, at: datetime) -> None:
        """Release for another attempt."""
        self.items[item_id] = replace(self.items[item_id], error=error)
        self._available[item_id] = at

    async def kill(self, item_id: str, *, error: str, now: datetime) -> None:
        """Give up."""
        self.items[item_id] = replace(self.items[item_id], status=ItemStatus.DEAD, error=error)

    async def release(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Due again at once, the claim's attempt not counted."""
        for item_id in item_ids:
            item = self.items[item_id]
            if item.status is ItemStatus.PENDING:
                self.items[item_id] = replace(item, attempts=max(0, item.attempts - 1))
                self._available[item_id] = now

    async def get(self, item_id: str) -> InboxItem | None:
        """One item."""
        return self.items.get(item_id)

    async def pending(self) -> int:
        """Unprocessed items."""
        return sum(i.status is ItemStatus.PENDING for i in self.items.values())


class InMemoryOutbox:
    """Outbox held in a dict, unique by key."""

    def __init__(self) -> None:
        self.actions: dict[str, OutboxAction] = {}
        self.results: dict[str, str] = {}

    async def enqueue(self, actions: Sequence[OutboxAction]) -> list[bool]:
        """Queue new keys only."""
        accepted = []
        for action in actions:
            ok = action.key not in self.actions
            if ok:
                available = action.available_at or action.created_at
                self.actions[action.key] = replace(
                    action, attempts=0, status=ItemStatus.PENDING, available_at=available
                )
            accepted.append(ok)
        return accepted

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int = 16, targets: Sequence[str] | None = None
    ) -> list[OutboxAction]:
        """Lease due actions, oldest first."""
        due = [
            a
            for a in self.actions.values()
            if a.status is ItemStatus.PENDING
            and a.available_at is not None
            and a.available_at <= now
            and (targets is None or a.target in targets)
        ]
        due.sort(key=lambda a: (a.created_at, a.key))
        claimed = []
        for action in due[:limit]:
            self.actions[action.key] = leased = replace(action, attempts=action.attempts + 1, available_at=now + lease)
            claimed.append(leased)
        return claimed

    async def sent(self, key: str, *, now: datetime, result: str = "") -> None:
        """Mark performed."""
        self.actions[key] = replace(self.actions[key], status=ItemStatus.DONE, error="")
        self.results[key] = result

    async def sent_many(self, results: Sequence[tuple[str, str]], *, now: datetime) -> None:
        """Mark several performed."""
        for key, result in results:
            await self.sent(key, now=now, result=result)

    async def retry(self, key: str, *, error: str, at: datetime) -> None:
        """Schedule another attempt."""
        self.actions[key] = replace(self.actions[key], error=error, available_at=at)

    async def kill(self, key: str, *, error: str, now: datetime) -> None:
        """Give up."""
        self.actions[key] = replace(self.actions[key], status=ItemStatus.DEAD, error=error)

    async def release(self, keys: Sequence[str], *, now: datetime) -> None:
        """Due again at once, the claim's attempt not counted."""
        for key in keys:
            action = self.actions[key]
            if action.status is ItemStatus.PENDING:
                self.actions[key] = replace(action, attempts=max(0, action.attempts - 1), available_at=now)

    async def get(self, key: str) -> OutboxAction | None:
        """One action."""
        return self.actions.get(key)

    async def result(self, key: str) -> str | None:
        """What the remote side returned."""
        return self.results.get(key)

    async def pending(self, target: str | None = None) -> int:
        """Unperformed actions."""
        return sum(
            a.status is ItemStatus.PENDING and (target is None or a.target == target) for a in self.actions.values()
        )


class InMemoryConversations:
    """Conversation state and agent events held in memory."""

    def __init__(self) -> None:
        self.states: dict[str, ConversationState] = {}
        self.events: list[AgentEvent] = []

    async def get(self, conversation_id: str) -> ConversationState | None:
        """The conversation's state."""
        return self.states.get(conversation_id)

    def _state(self, conversation_id: str, at: datetime) -> ConversationState:
        return self.states.get(conversation_id) or ConversationState(conversation_id, at)

    async def set_last_contact(self, conversation_id: str, contact_id: str, *, at: datetime) -> None:
        """Remember the latest contact."""
        self.states[conversation_id] = replace(
            self._state(conversation_id, at), last_contact_id=contact_id, updated_at=at
        )

    async def get_many(self, conversation_ids: Sequence[str]) -> dict[str, ConversationState]:
        """The known states among ``conversation_ids``."""
        return {c: self.states[c] for c in conversation_ids if c in self.states}

    async def set_last_contacts(self, latest: Sequence[tuple[str, str]], *, at: datetime) -> None:
        """Remember several latest contacts."""
        for conversation_id, contact_id in latest:
            await self.set_last_contact(conversation_id, contact_id, at=at)

    async def human_took_over(self, conversation_id: str, *, at: datetime) -> bool:
        """Silence the bot once."""
        state = self._state(conversation_id, at)
        if state.human_since is not None:
            return False
        self.states[conversation_id] = replace(state, human_since=at, updated_at=at)
        return True

    async def closed(self, conversation_id: str, *, at: datetime) -> None:
        """Record the close."""
        self.states[conversation_id] = replace(self._state(conversation_id, at), closed_at=at, updated_at=at)

    async def record_agent_event(self, event: AgentEvent) -> bool:
        """Append; one first response per contact."""
        if event.kind is AgentEventKind.FIRST_RESPONSE and any(
            e.contact_id == event.contact_id and e.kind is event.kind for e in self.events
        ):
            return False
        self.events.append(event)
        return True

    async def agent_events(self, contact_id: str) -> list[AgentEvent]:
        """Events of one contact, oldest first."""
        return sorted((e for e in self.events if e.contact_id == contact_id), key=lambda e: e.at)
