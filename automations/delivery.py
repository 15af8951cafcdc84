"""Background workers over the durable queues: process inbox items, perform outbox actions.

Both loops are transport-agnostic. An inbox :class:`ItemHandler` turns one received delivery into decisions and
outbox actions (a :class:`BatchHandler` takes a whole claimed batch, so that its contacts are decided together); an
outbox :class:`Sender` performs one action on a remote system. Failures are retried with capped exponential backoff
that honours a server's ``Retry-After``; attempts are bounded, and an item that exhausts them is marked ``dead`` (kept
for operators and counted in metrics) instead of being retried forever.

Outbox actions go out concurrently, per target, and exactly once however workers die: an action is only started
while its lease has at least half its length left (so no other worker can claim it while it is in flight), and an
action claimed again after an attempt that may have reached the remote side (a killed worker, a timeout) is first
checked there by a :class:`Reconciler` sender, and recorded as sent without sending it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol, runtime_checkable

from automations.backpressure import OutboxBacklog
from automations.dispatch import OutboxDispatcher, Reconciler, Sender
from automations.ports import Clock
from automations.queues import Inbox, InboxItem
from automations.retrying import STOP_GRACE_S, Backoff, PermanentFailure, PollLoop, RetryLater, retry_or_kill

__all__ = [
    "STOP_GRACE_S",
    "Backoff",
    "BatchHandler",
    "InboxProcessor",
    "ItemHandler",
    "OutboxDispatcher",
    "PermanentFailure",
    "Reconciler",
    "RetryLater",
    "Sender",
]

log = logging.getLogger("autopilot.delivery")


class ItemHandler(Protocol):
    """Processes one inbox item (idempotently: it may see the same item again after a crash)."""

    async def handle(self, item: InboxItem) -> None:
        """Process ``item``; raise :class:`RetryLater` or any exception to have it retried."""
        ...


@runtime_checkable
class BatchHandler(Protocol):
    """An :class:`ItemHandler` that also takes a claimed batch at once (its contacts decided together)."""

    async def handle(self, item: InboxItem) -> None:
        """Process one item, as :meth:`ItemHandler.handle`."""
        ...

    async def handle_many(self, items: Sequence[InboxItem]) -> list[Exception | None]:
        """Process ``items`` (claimed oldest first), each conversation's in their order; for each item, ``None`` when
        it was processed, or the exception that has it retried. Idempotent per item, like :meth:`handle`."""
        ...


class InboxProcessor(PollLoop):
    """Claims inbox items and hands them to the handler registered for their source (a whole batch at once to a
    :class:`BatchHandler`)."""

    def __init__(
        self,
        inbox: Inbox,
        handlers: dict[str, ItemHandler],
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 16,
        processed: Callable[[], None] | None = None,
        backlog: OutboxBacklog | None = None,
    ) -> None:
        """``processed`` is called after each round that processed items (the service wakes its outbox dispatcher,
        so that the effects just queued go out without waiting for its poll). With ``backlog`` (shared with this
        process's :class:`OutboxDispatcher`), no batch is claimed while the dispatcher is behind (see
        :mod:`automations.backpressure`)."""
        super().__init__()
        self._inbox, self._handlers, self._clock = inbox, handlers, clock
        self._backoff = backoff or Backoff(max_s=60.0, max_attempts=10)
        self._lease, self._batch, self._processed, self._backlog = lease, batch, processed, backlog

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many items were claimed. A :class:`BatchHandler` gets all of its
        source's items at once; others get one item at a time. Once :meth:`stop` is called, the items of the batch
        not yet started are released at once (not left to their lease)."""
        if self._backlog is None:
            return await self._round()
        await self._backlog.wait(self._stop)  # this process's replies first
        if self.stopping:
            return 0
        with self._backlog.deciding():
            return await self._round()

    async def _round(self) -> int:
        items = await self._inbox.claim(now=self._clock.now(), lease=self._lease, limit=self._batch)
        by_source: dict[str, list[InboxItem]] = {}
        for item in items:
            by_source.setdefault(item.source, []).append(item)
        units: list[list[InboxItem]] = []  # what is started together: a source's batch, or one item
        for source, mine in by_source.items():
            batched = isinstance(self._handlers.get(source), BatchHandler) and len(mine) > 1
            units += [mine] if batched else [[item] for item in mine]
        for n, unit in enumerate(units):
            if self.stopping:
                rest = [item.id for later in units[n:] for item in later]
                await self._inbox.release(rest, now=self._clock.now())
                log.info("released %d claimed inbox items on shutdown", len(rest))
                break
            handler = self._handlers.get(unit[0].source)
            if len(unit) > 1 and isinstance(handler, BatchHandler):
                await self._process_many(handler, unit)
            else:
                await self._process(unit[0])
        if items and self._processed is not None:
            self._processed()
        return len(items)

    async def _process_many(self, handler: BatchHandler, items: list[InboxItem]) -> None:
        try:
            outcomes = await handler.handle_many(items)
        except Exception as exc:
            outcomes = [exc] * len(items)
        await self._inbox.complete_many([i.id for i, o in zip(items, outcomes, strict=True) if o is None],
                                        now=self._clock.now())  # fmt: skip
        for item, outcome in zip(items, outcomes, strict=True):
            if outcome is not None:
                await self._settle(item, outcome)

    async def _process(self, item: InboxItem) -> None:
        handler = self._handlers.get(item.source)
        if handler is None:
            await self._inbox.kill(item.id, error=f"no handler for source {item.source!r}", now=self._clock.now())
            return
        outcome: Exception | None = None
        try:
            await handler.handle(item)
        except Exception as exc:
            outcome = exc
        await self._settle(item, outcome)

    async def _settle(self, item: InboxItem, outcome: Exception | None) -> None:
        if outcome is not None:
            await retry_or_kill(self._inbox, "inbox item", item.id, item.attempts, outcome, self._backoff, self._clock)
        else:
            await self._inbox.complete(item.id, now=self._clock.now())
