"""The inbox handler for source ``intercom``: translates one persisted notification into calls on the core's
:class:`~automations.conversations.ConversationFlow`, which holds the state machine (takeover, closes, CSAT dedupe).

Customer messages (``conversation.user.created``/``.replied``) become :class:`Contact` s decided by the core; the
Intercom actions come from :func:`bot.intercom.actions.plan_actions`. Only Intercom's own rules stay here: which
topics mean what, and which admin is the bot itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

from automations.models import Channel, Contact, Decision
from automations.queues import InboxItem, OutboxAction
from bot.context import Context
from bot.intercom.models import CUSTOMER_TOPICS, IntercomEvent
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
        self._context, self._flow = context, context.flow
        settings = context.settings
        self._plan = lambda decision, *, silenced: plan(decision, settings, silenced=silenced)
        self._bot_admin = settings.intercom_bot_admin_id
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
        at = event.at or self._context.clock.now()
        flow = self._flow
        async with self._locks.hold(conversation):
            if event.topic in CUSTOMER_TOPICS:
                result = await self._customer(event, conversation)
            elif event.topic in ("conversation.admin.replied", "conversation.admin.assigned"):
                if event.actor_type != "admin" or not self._human(event.actor_id):
                    result = "not_human"
                else:
                    result = await flow.human_replied(
                        conversation, at=at, actor=event.actor_id, assigned_to=event.assignee_id,
                        assign=event.topic == "conversation.admin.assigned",
                    )  # fmt: skip
            elif event.topic == "conversation.admin.closed":
                result = await flow.closed(conversation, at=at, actor=event.actor_id)
            elif event.topic == "conversation.rating.added":
                result = await flow.rated(conversation, rating=event.rating or 0, at=at, remark=event.remark or "")
                if result == "invalid_rating":
                    log.warning("ignoring rating %r on %s", event.rating, conversation)
            else:
                result = "ignored"
        self._processed.labels(event.topic, result).inc()

    def _human(self, admin_id: str | None) -> bool:
        return admin_id is not None and admin_id != self._bot_admin

    async def _customer(self, event: IntercomEvent, conversation: str) -> str:
        # teammates who wrote in the conversation are only told apart from the bot when its admin id is known
        humans = [h for h in event.humans if self._human(h)] if self._bot_admin else []
        contacts = [
            Contact(
                id=f"intercom:{m.part_id}",
                text=m.text,
                channel=Channel.CUSTOMER,
                received_at=m.created_at,
                customer_id=event.customer_id,
                conversation_id=conversation,
                source="intercom",
            )
            for m in event.messages
        ]
        return await self._flow.customer_messages(
            conversation, contacts, self._plan, human_present=bool(humans), at=event.at
        )
