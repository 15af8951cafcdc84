"""The HTTP service: the core, the durable queues, and the channel adapters that plug in.

Each channel (Intercom, Slack, the playground) contributes a :class:`~bot.context.Parts`: HTTP routes, an inbox
handler per source, an outbox sender per target, and hand-off effects (what every other channel should do when a
contact is handed to a human). Adapters never call each other; they meet here. The service is typed on ports only:
:func:`bot.composition.build_web` gives it SQL queues, the test bot in-memory ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import CollectorRegistry, Gauge
from starlette.routing import BaseRoute

from automations.backpressure import OutboxBacklog
from automations.conversations import ConversationFlow
from automations.delivery import STOP_GRACE_S, Backoff, InboxProcessor, OutboxDispatcher
from automations.effects import EffectPlanner
from automations.ports import Clock
from bot.context import Context, Core, PartsFactory, Queues
from bot.intercom.wiring import intercom_parts
from bot.playground import playground_parts
from bot.settings import Settings
from bot.slack.wiring import slack_parts

__all__ = ["Service", "build_service", "default_parts"]

log = logging.getLogger("autopilot.service")


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
        """Stop claiming; let the workers finish the item in hand (claimed items not started are released at once)
        for up to :data:`STOP_GRACE_S`, then cancel them; then release the adapters and the database."""
        self.processor.stop()
        self.dispatcher.stop()
        for task in self._background:
            task.cancel()
        if self._workers:
            _, late = await asyncio.wait(self._workers, timeout=STOP_GRACE_S)
            for task in late:  # an item still running after the grace period keeps its lease
                task.cancel()
        await asyncio.gather(*self._workers, *self._background, return_exceptions=True)
        for close in self.shutdown:
            await close()
        await self.context.core.close()


def default_parts() -> list[PartsFactory]:
    """The channel adapters of the product: the playground always; Intercom and Slack when configured."""
    return [slack_parts, intercom_parts, playground_parts]


async def build_service(
    settings: Settings,
    *,
    core: Core,
    queues: Queues,
    clock: Clock,
    parts: list[PartsFactory] | None = None,
    backoff: Backoff | None = None,
) -> Service:
    """Wire the core, the queues and every adapter into a service (workers not started yet)."""
    guard = core.pipeline.nondisclosure
    effects = EffectPlanner(screen=guard.screen if guard is not None else None)  # no tipping off, at the outbox too
    flow = ConversationFlow(
        store=core.store, conversations=queues.conversations, outbox=queues.outbox, effects=effects, clock=clock,
        decide=core.pipeline.handle, clocks=core.clocks, transcripts=queues.transcripts,
        decide_many=core.pipeline.handle_many,
    )  # fmt: skip
    context = Context(
        settings=settings, core=core, inbox=queues.inbox, outbox=queues.outbox, conversations=queues.conversations,
        clock=clock, registry=CollectorRegistry(), effects=effects, flow=flow, transcripts=queues.transcripts,
    )  # fmt: skip
    built = [await factory(context) for factory in (parts if parts is not None else default_parts())]
    for part in built:
        for effect in part.handoff_effects:
            effects.add(effect)
    backoff = backoff or Backoff(max_s=settings.outbox_max_backoff_s, max_attempts=settings.outbox_max_attempts)
    handlers = {source: h for part in built for source, h in part.handlers.items()}
    senders = {target: s for part in built for target, s in part.senders.items()}
    lease = timedelta(seconds=settings.lease_s)
    backlog = OutboxBacklog(settings.outbox_backpressure)  # this process's replies go out while its inbox is busy
    dispatcher = OutboxDispatcher(
        context.outbox, senders, clock, backoff=backoff, lease=lease, concurrency=settings.outbox_concurrency,
        backlog=backlog,
    )  # fmt: skip
    processor = InboxProcessor(
        context.inbox, handlers, clock, lease=lease, batch=settings.batch, processed=dispatcher.wake, backlog=backlog
    )
    context.wakers += [processor.wake, dispatcher.wake]
    return Service(
        context=context,
        routes=[route for part in built for route in part.routes],
        processor=processor,
        dispatcher=dispatcher,
        background=[run for part in built for run in part.background],
        shutdown=[close for part in built for close in part.shutdown] + ([queues.close] if queues.close else []),
        workers=max(0, settings.workers),
    )
