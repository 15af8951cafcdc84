"""Conversation state and agent events: who is handling a conversation, and what humans did with a hand-off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from automations.effects import ChannelPlanner, EffectPlanner
from automations.models import Action, Contact, Decision, Feedback
from automations.ports import Clock, EventStore
from automations.queues import Outbox, OutboxAction

__all__ = [
    "AgentEvent", "AgentEventKind", "ConversationFlow", "ConversationState", "Conversations", "same_moment",
]  # fmt: skip


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


def same_moment(a: datetime, b: datetime) -> bool:
    """Two payload timestamps for the same event (a redelivery), to the millisecond."""
    return abs((a - b).total_seconds()) < 1e-3


class ConversationFlow:
    """The conversation state machine, shared by every channel adapter.

    - A customer's messages are decided and their effects queued, unless a human has taken the conversation over:
      then the decision is still recorded, but nothing is said to the customer and nobody else is alerted.
    - A human reply or assignment silences the bot from then on, and times the hand-off (first response, assignment).
    - A close and a rating are recorded against the conversation's last contact, each once however often delivered.
    - A follow-up in a thread is read together with the thread's earlier question.

    Every step is idempotent, because a crash may replay an inbox item.
    """

    def __init__(
        self,
        *,
        store: EventStore,
        conversations: Conversations,
        outbox: Outbox,
        effects: EffectPlanner,
        clock: Clock,
        decide: Callable[[Contact], Awaitable[Decision]],
    ) -> None:
        """Wire the ports; ``decide`` is the pipeline's ``handle``."""
        self.store, self.conversations, self.outbox = store, conversations, outbox
        self.effects, self.clock, self.decide = effects, clock, decide

    async def customer_messages(
        self, conversation: str, contacts: Sequence[Contact], planner: ChannelPlanner, *, human_present: bool,
        at: datetime | None = None,
    ) -> str:  # fmt: skip
        """Decide each message (a known contact id returns its recorded decision) and queue its effects.

        ``human_present``: a teammate wrote in this delivery, so the bot is silenced from now on. Returns
        ``silenced``, the last decision's action, or ``empty``.
        """
        state = await self.conversations.get(conversation)
        already = state is not None and state.bot_silenced
        if human_present and not already:
            await self.conversations.human_took_over(conversation, at=at or self.clock.now())
        silenced = already or human_present
        result = "empty"
        for contact in contacts:
            decision = await self.store.get_decision(contact.id) or await self.decide(contact)
            await self.outbox.enqueue(self.effects.plan(decision, planner, silenced=silenced))
            await self.conversations.set_last_contact(conversation, contact.id, at=self.clock.now())
            result = "silenced" if silenced else str(decision.action)
        return result

    async def last_decision(self, conversation: str) -> Decision | None:
        """The decision on the conversation's latest contact, if any."""
        state = await self.conversations.get(conversation)
        if state is None or state.last_contact_id is None:
            return None
        return await self.store.get_decision(state.last_contact_id)

    async def human_replied(
        self,
        conversation: str,
        *,
        at: datetime,
        actor: str | None,
        assigned_to: str | None = None,
        assign: bool = False,
    ) -> str:
        """A teammate replied (or, with ``assign``, assigned the conversation): silence the bot and time a hand-off."""
        await self.conversations.human_took_over(conversation, at=at)
        decision = await self.last_decision(conversation)
        if decision is None or decision.action is not Action.HANDOFF:
            return "silenced"
        if assign:
            detail = f"assigned to {assigned_to}" if assigned_to else ""
            await self.event_once(AgentEvent(decision.contact_id, AgentEventKind.ASSIGNED, at, actor, detail))
        else:
            event = AgentEvent(decision.contact_id, AgentEventKind.FIRST_RESPONSE, at, actor=actor)
            await self.conversations.record_agent_event(event)  # kept once per contact by the port
        return "takeover"

    async def closed(self, conversation: str, *, at: datetime, actor: str | None) -> str:
        """The conversation was closed."""
        await self.conversations.closed(conversation, at=at)
        decision = await self.last_decision(conversation)
        if decision is None:
            return "unknown_conversation"
        await self.event_once(AgentEvent(decision.contact_id, AgentEventKind.CLOSED, at, actor=actor))
        return "closed"

    async def rated(self, conversation: str, *, rating: int, at: datetime, remark: str = "") -> str:
        """The customer rated the conversation (1..5): CSAT feedback on its last contact, once per rating event."""
        if not 1 <= rating <= 5:
            return "invalid_rating"
        decision = await self.last_decision(conversation)
        if decision is None:
            return "unknown_conversation"
        known = await self.store.feedback_for(decision.contact_id)
        if not any(f.csat == rating and same_moment(f.at, at) for f in known):
            await self.store.record_feedback(
                Feedback(decision.contact_id, at, csat=rating, source="customer", comment=remark)
            )
        await self.event_once(AgentEvent(decision.contact_id, AgentEventKind.CSAT, at, detail=str(rating)))
        return "csat"

    async def event_once(self, event: AgentEvent) -> None:
        """Record a human action unless the same one (kind and time) is already there."""
        known = await self.conversations.agent_events(event.contact_id)
        if not any(e.kind is event.kind and same_moment(e.at, event.at) for e in known):
            await self.conversations.record_agent_event(event)

    async def with_thread_context(self, conversation: str, contact_id: str, text: str, *, chars: int = 600) -> str:
        """A follow-up in a thread, prefixed with the end of the thread's earlier question (for retrieval)."""
        state = await self.conversations.get(conversation)
        if state is None or not state.last_contact_id or state.last_contact_id == contact_id:
            return text
        earlier = await self.store.get_decision(state.last_contact_id)
        return f"{earlier.text[-chars:]}\n{text}" if earlier is not None else text

    async def answered(self, conversation: str, contact_id: str, decision: Decision, action: OutboxAction) -> None:
        """An agent-channel answer: remember the thread's latest contact and queue the answer."""
        await self.conversations.set_last_contact(conversation, contact_id, at=self.clock.now())
        await self.outbox.enqueue([action])
