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
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

from automations.conversations import CustomerMessages
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
        outcome = (await self.handle_many([item]))[0]
        if outcome is not None:
            raise outcome

    async def handle_many(self, items: Sequence[InboxItem]) -> list[Exception | None]:
        """Process a claimed batch (:class:`~automations.delivery.BatchHandler`): each conversation's notifications in
        their order, one per conversation per round; a round's customer messages are decided together."""
        outcomes: list[Exception | None] = [None] * len(items)
        events: dict[int, IntercomEvent] = {}
        for i, item in enumerate(items):
            try:
                events[i] = IntercomEvent.model_validate_json(item.payload)
            except Exception as exc:
                outcomes[i] = exc
        queues: dict[str, list[int]] = {}
        for i, event in events.items():
            queues.setdefault(conversation_key(event.conversation_id), []).append(i)
        async with contextlib.AsyncExitStack() as held:
            for conversation in sorted(queues):  # one order for every loop of the process: no deadlock
                await held.enter_async_context(self._locks.hold(conversation))
            for depth in range(max((len(q) for q in queues.values()), default=0)):
                now = [q[depth] for q in queues.values() if len(q) > depth]
                customers = [i for i in now if events[i].topic in CUSTOMER_TOPICS]
                results = await self._flow.customer_batch([self._customer(events[i]) for i in customers])
                for i, result in zip(customers, results, strict=True):
                    self._done(events[i], result, outcomes, i)
                for i in (i for i in now if events[i].topic not in CUSTOMER_TOPICS):
                    try:
                        self._done(events[i], await self._other(events[i]), outcomes, i)
                    except Exception as exc:
                        outcomes[i] = exc
        return outcomes

    def _done(self, event: IntercomEvent, result: str | Exception, outcomes: list[Exception | None], i: int) -> None:
        if isinstance(result, Exception):
            outcomes[i] = result
        else:
            self._processed.labels(event.topic, result).inc()

    async def _other(self, event: IntercomEvent) -> str:
        """A teammate's reply or assignment, a close, a rating, or a topic we ignore."""
        conversation = conversation_key(event.conversation_id)
        at = event.at or self._context.clock.now()
        flow = self._flow
        if event.topic in ("conversation.admin.replied", "conversation.admin.assigned"):
            if event.actor_type != "admin" or not self._human(event.actor_id):
                result = "not_human"
            else:
                result = await flow.human_replied(
                    conversation, at=at, actor=event.actor_id, assigned_to=event.assignee_id,
                    assign=event.topic == "conversation.admin.assigned", text=event.reply,
                    part_id=event.reply_part_id, actor_name=event.actor_name,
                )  # fmt: skip
        elif event.topic == "conversation.admin.closed":
            result = await flow.closed(conversation, at=at, actor=event.actor_id)
        elif event.topic == "conversation.rating.added":
            result = await flow.rated(conversation, rating=event.rating or 0, at=at, remark=event.remark or "")
            if result == "invalid_rating":
                log.warning("ignoring rating %r on %s", event.rating, conversation)
        else:
            result = "ignored"
        return result

    def _human(self, admin_id: str | None) -> bool:
        return admin_id is not None and admin_id != self._bot_admin

    def _customer(self, event: IntercomEvent) -> CustomerMessages:
        conversation = conversation_key(event.conversation_id)
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
                jurisdiction=event.jurisdiction,
            )
            for m in event.messages
        ]
        return CustomerMessages(conversation, contacts, self._plan, human_present=bool(humans), at=event.at)
