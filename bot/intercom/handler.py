"""The inbox handler for source ``intercom``: turns one persisted notification into decisions, outbox actions and
conversation state.

Customer messages (``conversation.user.created``/``.replied``) run the core and queue the planned Intercom actions
plus every other channel's hand-off actions in one ``outbox.enqueue`` call. Admin replies and assignments silence
the bot in that conversation; closes and ratings are recorded against the conversation's last contact.

Everything is idempotent, because a crash may replay an item: the pipeline returns the recorded decision for a known
contact id (the conversation part id), outbox keys are deterministic, conversation updates are upserts, and agent
events and CSAT feedback are written only when the same one (kind and time from the payload) is not there yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

from automations.conversations import AgentEvent, AgentEventKind
from automations.models import Action, Channel, Contact, Decision, Feedback
from automations.queues import InboxItem, OutboxAction
from bot.intercom.models import CUSTOMER_TOPICS, IntercomEvent
from bot.service import Context
from bot.settings import Settings

__all__ = ["IntercomHandler", "Planner", "conversation_key"]

log = logging.getLogger("autopilot.intercom")


class Planner(Protocol):
    """Plans the Intercom outbox actions for a decision (``bot.intercom.actions.plan_actions``)."""

    def __call__(self, decision: Decision, settings: Settings, *, silenced: bool) -> list[OutboxAction]:
        """Actions with deterministic keys; with ``silenced`` nothing is said to the customer."""
        ...


def conversation_key(conversation_id: str) -> str:
    """Our id for an Intercom conversation (``Decision.conversation_id`` and ``ConversationState.id``)."""
    return f"intercom:{conversation_id}"


class _KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class IntercomHandler:
    """:class:`~automations.delivery.ItemHandler` for Intercom notifications."""

    def __init__(self, context: Context, plan: Planner, *, registry: CollectorRegistry | None = None) -> None:
        """Handle items with the service ``context``, planning Intercom actions with ``plan``."""
        self._context, self._plan = context, plan
        self._bot_admin = context.settings.intercom_bot_admin_id
        self._locks = _KeyedLocks()
        self._processed = Counter(
            "autopilot_intercom_processed",
            "Intercom notifications processed by topic and result",
            ["topic", "result"],
            registry=registry if registry is not None else context.registry,
        )

    async def handle(self, item: InboxItem) -> None:
        """Process one notification (serialised per conversation within this process)."""
        event = IntercomEvent.model_validate_json(item.payload)
        conversation = conversation_key(event.conversation_id)
        async with self._locks.hold(conversation):
            if event.topic in CUSTOMER_TOPICS:
                result = await self._customer(event, conversation)
            elif event.topic in ("conversation.admin.replied", "conversation.admin.assigned"):
                result = await self._takeover(event, conversation)
            elif event.topic == "conversation.admin.closed":
                result = await self._closed(event, conversation)
            elif event.topic == "conversation.rating.added":
                result = await self._rating(event, conversation)
            else:
                result = "ignored"
        self._processed.labels(event.topic, result).inc()

    def _human(self, admin_id: str | None) -> bool:
        return admin_id is not None and admin_id != self._bot_admin

    async def _customer(self, event: IntercomEvent, conversation: str) -> str:
        context = self._context
        state = await context.conversations.get(conversation)
        # teammates who wrote in the conversation are only told apart from the bot when its admin id is known
        humans = [h for h in event.humans if self._human(h)] if self._bot_admin else []
        silenced = (state is not None and state.bot_silenced) or bool(humans)
        if humans and not (state and state.bot_silenced):
            await context.conversations.human_took_over(conversation, at=event.at or context.clock.now())
        result = "empty"
        for message in event.messages:
            contact = Contact(
                id=f"intercom:{message.part_id}", text=message.text, channel=Channel.CUSTOMER,
                received_at=message.created_at, customer_id=event.customer_id, conversation_id=conversation,
                source="intercom",
            )  # fmt: skip
            decision = await context.core.store.get_decision(contact.id) or await context.core.pipeline.handle(contact)
            actions = list(self._plan(decision, context.settings, silenced=silenced))
            if decision.action is Action.HANDOFF and not silenced:
                actions += context.handoff_actions(decision)
            await context.outbox.enqueue(actions)
            await context.conversations.set_last_contact(conversation, contact.id, at=context.clock.now())
            result = "silenced" if silenced else str(decision.action)
        return result

    async def _last_decision(self, conversation: str) -> Decision | None:
        state = await self._context.conversations.get(conversation)
        if state is None or state.last_contact_id is None:
            return None
        return await self._context.core.store.get_decision(state.last_contact_id)

    async def _takeover(self, event: IntercomEvent, conversation: str) -> str:
        if event.actor_type != "admin" or not self._human(event.actor_id):
            return "not_human"
        context = self._context
        at = event.at or context.clock.now()
        await context.conversations.human_took_over(conversation, at=at)
        decision = await self._last_decision(conversation)
        if decision is None or decision.action is not Action.HANDOFF:
            return "silenced"
        if event.topic == "conversation.admin.replied":
            await context.conversations.record_agent_event(
                AgentEvent(decision.contact_id, AgentEventKind.FIRST_RESPONSE, at, actor=event.actor_id)
            )
        else:
            detail = f"assigned to {event.assignee_id}" if event.assignee_id else ""
            await self._event_once(AgentEvent(decision.contact_id, AgentEventKind.ASSIGNED, at, event.actor_id, detail))
        return "takeover"

    async def _closed(self, event: IntercomEvent, conversation: str) -> str:
        context = self._context
        at = event.at or context.clock.now()
        await context.conversations.closed(conversation, at=at)
        decision = await self._last_decision(conversation)
        if decision is None:
            return "unknown_conversation"
        await self._event_once(AgentEvent(decision.contact_id, AgentEventKind.CLOSED, at, actor=event.actor_id))
        return "closed"

    async def _rating(self, event: IntercomEvent, conversation: str) -> str:
        if event.rating is None or not 1 <= event.rating <= 5:
            log.warning("ignoring rating %r on %s", event.rating, conversation)
            return "invalid_rating"
        decision = await self._last_decision(conversation)
        if decision is None:
            return "unknown_conversation"
        store, at = self._context.core.store, event.at or self._context.clock.now()
        known = await store.feedback_for(decision.contact_id)
        if not any(f.csat == event.rating and _same(f.at, at) for f in known):
            await store.record_feedback(
                Feedback(decision.contact_id, at, csat=event.rating, source="customer", comment=event.remark)
            )
        await self._event_once(AgentEvent(decision.contact_id, AgentEventKind.CSAT, at, detail=str(event.rating)))
        return "csat"

    async def _event_once(self, event: AgentEvent) -> None:
        conversations = self._context.conversations
        known = await conversations.agent_events(event.contact_id)
        if not any(e.kind is event.kind and _same(e.at, event.at) for e in known):
            await conversations.record_agent_event(event)


def _same(a: datetime, b: datetime) -> bool:
    return abs((a - b).total_seconds()) < 1e-3
