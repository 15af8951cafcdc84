"""The HTTP service's composition root: the core, the durable queues, and the channel adapters that plug in.

Each channel (Intercom, Slack, the playground) contributes a :class:`Parts`: HTTP routes, an inbox handler per
source, an outbox sender per target, and hand-off effects (what every other channel should do when a contact is
handed to a human). Adapters never call each other; they meet here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import CollectorRegistry, Gauge
from starlette.routing import BaseRoute

from automations.delivery import Backoff, InboxProcessor, ItemHandler, OutboxDispatcher, Sender
from automations.groupcommit import GroupCommitInbox
from automations.models import Decision
from automations.ports import Clock
from automations.queues import Inbox, OutboxAction
from bot.composition import Core, SystemClock, build_core
from bot.settings import Settings
from store import SqlEventStore
from store.queues import SqlConversations, SqlInbox, SqlOutbox

__all__ = ["Context", "HandoffEffect", "Parts", "Service", "build_service"]

log = logging.getLogger("autopilot.service")

HandoffEffect = Callable[[Decision], list[OutboxAction]]
"""Outbox actions another channel performs when ``decision`` hands a contact off (e.g. a Slack tier post)."""


@dataclass
class Context:
    """What every adapter gets: settings, the wired core, the durable queues, the clock and the metrics registry."""

    settings: Settings
    core: Core
    inbox: Inbox
    outbox: SqlOutbox
    conversations: SqlConversations
    clock: Clock
    registry: CollectorRegistry
    handoff_effects: list[HandoffEffect] = field(default_factory=list)
    wakers: list[Callable[[], None]] = field(default_factory=list)

    def wake(self) -> None:
        """New inbox or outbox rows were written: let the workers pick them up without waiting for their poll."""
        for waker in self.wakers:
            waker()

    def handoff_actions(self, decision: Decision) -> list[OutboxAction]:
        """Every channel's actions for a hand-off (deterministic keys, so planning twice queues once)."""
        return [action for effect in self.handoff_effects for action in effect(decision)]


@dataclass
class Parts:
    """What one channel adapter plugs into the service."""

    routes: list[BaseRoute] = field(default_factory=list)
    handlers: dict[str, ItemHandler] = field(default_factory=dict)
    senders: dict[str, Sender] = field(default_factory=dict)
    handoff_effects: list[HandoffEffect] = field(default_factory=list)
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


PartsFactory = Callable[[Context], Awaitable[Parts]]


@dataclass
class Service:
    """A running service: context, routes and the background workers."""

    context: Context
    routes: list[BaseRoute]
    processor: InboxProcessor
    dispatcher: OutboxDispatcher
    background: list[Callable[[], Awaitable[None]]]
    shutdown: list[Callable[[], Awaitable[None]]]
    workers: int = 2
    _workers: list[asyncio.Task[None]] = field(default_factory=list)
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """The service's settings."""
        return self.context.settings

    async def _gauges(self, every_s: float = 15.0) -> None:
        registry = self.context.registry
        inbox = Gauge("autopilot_inbox_pending", "Received deliveries not yet processed", registry=registry)
        outbox = Gauge("autopilot_outbox_pending", "Effects not yet performed", ["target"], registry=registry)
        targets = sorted(self.dispatcher.targets) or ["intercom", "slack"]
        while True:
            try:
                inbox.set(await self.context.inbox.pending())
                for target in targets:
                    outbox.labels(target).set(await self.context.outbox.pending(target))
            except Exception:
                log.warning("could not read queue depths", exc_info=True)
            await asyncio.sleep(every_s)

    async def start(self) -> None:
        """Start the inbox and outbox workers (and any adapter background loops) in this event loop."""
        self._workers = [asyncio.create_task(self.processor.run()) for _ in range(self.workers)]
        if self.workers:  # AUTOPILOT_WORKERS=0: an ack-only web process; `autopilot worker` does the work
            self._workers.append(asyncio.create_task(self.dispatcher.run()))
        self._background = [asyncio.ensure_future(run()) for run in [*self.background, self._gauges]]

    def wake(self) -> None:
        """New work was written: skip the workers' idle wait."""
        self.processor.wake()
        self.dispatcher.wake()

    async def stop(self) -> None:
        """Stop the workers, then release adapters and the database."""
        self.processor.stop()
        self.dispatcher.stop()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._workers, *self._background, return_exceptions=True)
        for close in self.shutdown:
            await close()
        await self.context.core.close()


def default_parts() -> list[PartsFactory]:
    """The channel adapters of the product: the playground always; Intercom and Slack when configured."""
    from bot.intercom.wiring import intercom_parts
    from bot.playground import playground_parts
    from bot.slack.wiring import slack_parts

    return [slack_parts, intercom_parts, playground_parts]


async def build_service(
    settings: Settings,
    *,
    core: Core | None = None,
    clock: Clock | None = None,
    parts: list[PartsFactory] | None = None,
    backoff: Backoff | None = None,
) -> Service:
    """Wire the core, the queues and every adapter into a service (workers not started yet)."""
    clock = clock or SystemClock()
    core = core or await build_core(settings, clock=clock)
    engine = core.store.engine
    inbox_store = await SqlEventStore.open(settings.inbox_db_url) if settings.inbox_db_url else None
    inbox_engine = inbox_store.engine if inbox_store is not None else engine
    context = Context(
        settings=settings, core=core, inbox=GroupCommitInbox(SqlInbox(inbox_engine)), outbox=SqlOutbox(engine),
        conversations=SqlConversations(engine), clock=clock, registry=CollectorRegistry(),
    )  # fmt: skip
    built = [await factory(context) for factory in (parts if parts is not None else default_parts())]
    for part in built:
        context.handoff_effects += part.handoff_effects
    backoff = backoff or Backoff(max_s=settings.outbox_max_backoff_s, max_attempts=settings.outbox_max_attempts)
    handlers = {source: h for part in built for source, h in part.handlers.items()}
    senders = {target: s for part in built for target, s in part.senders.items()}
    lease = timedelta(seconds=settings.lease_s)
    processor = InboxProcessor(context.inbox, handlers, clock, lease=lease)
    dispatcher = OutboxDispatcher(context.outbox, senders, clock, backoff=backoff, lease=lease)
    context.wakers += [processor.wake, dispatcher.wake]
    return Service(
        context=context,
        routes=[route for part in built for route in part.routes],
        processor=processor,
        dispatcher=dispatcher,
        background=[run for part in built for run in part.background],
        shutdown=[close for part in built for close in part.shutdown] + ([inbox_store.close] if inbox_store else []),
        workers=max(0, settings.workers),
    )
