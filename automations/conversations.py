"""Conversation state and agent events: who is handling a conversation, and what humans did with a hand-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = ["AgentEvent", "AgentEventKind", "ConversationState", "Conversations"]


class AgentEventKind(StrEnum):
    """Human actions recorded against a decision (for first-response and resolution times)."""

    FIRST_RESPONSE = "first_response"
    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    CLOSED = "closed"
    CSAT = "csat"


@dataclass(frozen=True, slots=True)
class AgentEvent:
    """One human action on a contact's decision."""

    contact_id: str
    kind: AgentEventKind
    at: datetime
    actor: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What we know about an external conversation (an Intercom conversation, a Slack thread)."""

    id: str
    updated_at: datetime
    last_contact_id: str | None = None
    human_since: datetime | None = None
    closed_at: datetime | None = None

    @property
    def bot_silenced(self) -> bool:
        """A human has taken over: the bot stays silent in this conversation from then on."""
        return self.human_since is not None


class Conversations(Protocol):
    """Durable conversation state and agent events."""

    async def get(self, conversation_id: str) -> ConversationState | None:
        """Return a conversation's state, if it was ever seen."""
        ...

    async def set_last_contact(self, conversation_id: str, contact_id: str, *, at: datetime) -> None:
        """Remember the latest contact of a conversation (creating the row when new)."""
        ...

    async def human_took_over(self, conversation_id: str, *, at: datetime) -> bool:
        """Silence the bot in a conversation; ``True`` when this call did it (``False`` if already silenced)."""
        ...

    async def closed(self, conversation_id: str, *, at: datetime) -> None:
        """Record that the conversation was closed."""
        ...

    async def record_agent_event(self, event: AgentEvent) -> bool:
        """Append a human action; a ``first_response`` is kept once per contact (``False`` when one exists)."""
        ...

    async def agent_events(self, contact_id: str) -> list[AgentEvent]:
        """Every human action on a contact, oldest first."""
        ...
