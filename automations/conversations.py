"""Conversation state and agent events: who is handling a conversation, and what humans did with a hand-off."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from automations.deadlines import RegulatoryClocks
from automations.effects import ChannelPlanner, EffectPlanner
from automations.models import Action, Contact, Decision, Feedback
from automations.ports import Clock, EventStore
from automations.qa.records import CapturedTurn, QaRecords, TurnKind
from automations.queues import Outbox, OutboxAction

__all__ = [
    "AgentEvent", "AgentEventKind", "ConversationFlow", "ConversationState", "Conversations", "CustomerMessages",
    "same_moment",
]  # fmt: skip

log = logging.getLogger("autopilot.conversations")


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

    async def get_many(self, conversation_ids: Sequence[str]) -> dict[str, ConversationState]:
        """The states of those conversations that were ever seen, by id (one read)."""
        ...

    async def set_last_contacts(self, latest: Sequence[tuple[str, str]], *, at: datetime) -> None:
        """:meth:`set_last_contact` for several ``(conversation id, contact id)`` pairs, in one transaction."""
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


@dataclass(frozen=True, slots=True)
class CustomerMessages:
    """One delivery's customer messages in a conversation (what :meth:`ConversationFlow.customer_messages` takes)."""

    conversation: str
    contacts: Sequence[Contact]
    planner: ChannelPlanner
    human_present: bool = False
    at: datetime | None = None


def same_moment(a: datetime, b: datetime) -> bool:
    """Two payload timestamps for the same event (a redelivery), to the millisecond."""
    return abs((a - b).total_seconds()) < 1e-3


class ConversationFlow:
    """The conversation state machine, shared by every channel adapter.

    - A customer's messages are decided and their effects queued, unless a human has taken the conversation over:
      then the decision is still recorded, but nothing is said to the customer and nobody else is alerted.
    - A human reply or assignment silences the bot from then on, and times the hand-off (first response, assignment).
    - A close and a rating are recorded against the conversation's last contact, each once however often delivered.
      A close meets the conversation's running regulatory clocks (late ones are recorded as missed), except internal
      ones: a SAR decision is not made by answering the customer.
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
        clocks: RegulatoryClocks | None = None,
        transcripts: QaRecords | None = None,
        decide_many: Callable[[Sequence[Contact]], Awaitable[list[Decision]]] | None = None,
    ) -> None:
        """Wire the ports; ``decide`` is the pipeline's ``handle`` (``decide_many`` its ``handle_many``, for
        :meth:`customer_batch`); ``transcripts`` captures every turn for QA."""
        self.store, self.conversations, self.outbox = store, conversations, outbox
        self.effects, self.clock, self.decide = effects, clock, decide
        self.clocks, self.transcripts, self.decide_many = clocks, transcripts, decide_many

    async def customer_messages(
        self, conversation: str, contacts: Sequence[Contact], planner: ChannelPlanner, *, human_present: bool,
        at: datetime | None = None,
    ) -> str:  # fmt: skip
        """Decide each message (a known contact id returns its recorded decision) and queue its effects.

        ``human_present``: a teammate wrote in this delivery, so the bot is silenced from now on. Returns
        ``silenced``, the last decision's action, or ``empty``.
        """
        messages = CustomerMessages(conversation, contacts, planner, human_present, at)
        result = (await self.customer_batch([messages]))[0]
        if isinstance(result, Exception):
            raise result
        return result

    async def customer_batch(self, deliveries: Sequence[CustomerMessages]) -> list[str | Exception]:
        """:meth:`customer_messages` for several deliveries at once, at most one per conversation: the contacts not
        decided yet are decided together (``decide_many``; one customer's in order), and every effect is queued in
        one transaction. For each delivery, its result, or the exception that failed it alone."""
        silenced = []
        states = await self.conversations.get_many([d.conversation for d in deliveries])
        for delivery in deliveries:
            state = states.get(delivery.conversation)
            already = state is not None and state.bot_silenced
            if delivery.human_present and not already:
                await self.conversations.human_took_over(delivery.conversation, at=delivery.at or self.clock.now())
            silenced.append(already or delivery.human_present)
        decisions = await self.store.get_decisions([c.id for d in deliveries for c in d.contacts])
        fresh = list({c.id: c for d in deliveries for c in d.contacts if c.id not in decisions}.values())
        if fresh and self.decide_many is not None:
            decisions.update((d.contact_id, d) for d in await self.decide_many(fresh))
        else:
            for contact in fresh:
                decisions[contact.id] = await self.decide(contact)
        plans = [self.effects.plan(decisions[c.id], d.planner, silenced=quiet)
                 for d, quiet in zip(deliveries, silenced, strict=True) for c in d.contacts]  # fmt: skip
        await self.outbox.enqueue([action for plan in plans for action in plan])
        latest = [(d.conversation, d.contacts[-1].id) for d in deliveries if d.contacts]
        await self.conversations.set_last_contacts(latest, at=self.clock.now())
        return await self._capture_batch(deliveries, silenced, decisions)

    async def _capture_batch(
        self, deliveries: Sequence[CustomerMessages], silenced: Sequence[bool], decisions: dict[str, Decision]
    ) -> list[str | Exception]:
        """Capture every delivery's turns (in one write when the records take batches) and say what each became."""
        results: list[str | Exception] = [
            ("silenced" if quiet else str(decisions[d.contacts[-1].id].action)) if d.contacts else "empty"
            for d, quiet in zip(deliveries, silenced, strict=True)
        ]
        if self.transcripts is not None:
            turns = [turn for d, quiet in zip(deliveries, silenced, strict=True) for c in d.contacts
                     for turn in self._customer_turns(d.conversation, c, decisions[c.id], silenced=quiet)]  # fmt: skip
            try:
                await self.transcripts.add_turns(turns)
                return results
            except Exception:  # settle one delivery at a time, so that a failure fails only its own delivery
                log.warning("capturing %d turns at once failed; capturing them one by one", len(turns), exc_info=True)
        for n, (delivery, quiet) in enumerate(zip(deliveries, silenced, strict=True)):
            try:
                for contact in delivery.contacts:
                    for turn in self._customer_turns(delivery.conversation, contact, decisions[contact.id],
                                                     silenced=quiet):  # fmt: skip
                        await self._capture(turn)
            except Exception as exc:
                results[n] = exc
        return results

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
        text: str = "",
        part_id: str | None = None,
        actor_name: str | None = None,
    ) -> str:
        """A teammate replied (or, with ``assign``, assigned the conversation): silence the bot and time a hand-off.

        The reply's (redacted) ``text`` is captured for QA under its ``part_id``, with the teammate's id and name.
        """
        await self.conversations.human_took_over(conversation, at=at)
        if part_id is not None:
            kind = TurnKind.ASSIGNMENT if assign else TurnKind.MESSAGE
            await self._capture(CapturedTurn(f"{conversation}:{part_id}", conversation, "agent", at, text, kind,
                                             actor, actor_name))  # fmt: skip
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
        """The conversation was closed (its regulatory clocks met)."""
        await self.conversations.closed(conversation, at=at)
        key = f"{conversation}:close:{at.isoformat()}"
        await self._capture(CapturedTurn(key, conversation, "agent", at, kind=TurnKind.CLOSE, actor_id=actor))
        if self.clocks is not None:
            for clock in await self.clocks.find(conversation_id=conversation):
                if clock.running and not clock.internal:
                    await self.clocks.met(clock.contact_id, clock.rule, at=at, actor=actor or "system")
        decision = await self.last_decision(conversation)
        if decision is None:
            return "unknown_conversation"
        await self.event_once(AgentEvent(decision.contact_id, AgentEventKind.CLOSED, at, actor=actor))
        return "closed"

    async def rated(self, conversation: str, *, rating: int, at: datetime, remark: str = "") -> str:
        """The customer rated the conversation (1..5): CSAT feedback on its last contact, once per rating event."""
        if not 1 <= rating <= 5:
            return "invalid_rating"
        key = f"{conversation}:rating:{at.isoformat()}"
        await self._capture(CapturedTurn(key, conversation, "customer", at, remark, TurnKind.RATING))
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

    async def _capture(self, turn: CapturedTurn) -> None:
        if self.transcripts is not None:
            await self.transcripts.add_turn(turn)

    @staticmethod
    def _customer_turns(
        conversation: str, contact: Contact, decision: Decision, *, silenced: bool
    ) -> list[CapturedTurn]:
        """The customer's (redacted) message, and the bot's answer when it was sent."""
        at = contact.received_at or decision.decided_at
        turns = [CapturedTurn(contact.id, conversation, "customer", at, decision.text, contact_id=contact.id,
                              customer_id=contact.customer_id)]  # fmt: skip
        if not silenced and decision.action is Action.ANSWER and decision.reply:
            turns.append(CapturedTurn(f"{contact.id}:bot", conversation, "bot", decision.decided_at, decision.reply,
                                      contact_id=contact.id, customer_id=contact.customer_id))  # fmt: skip
        return turns

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
