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

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from automations.backpressure import OutboxBacklog
from automations.effects import OutboxKeys
from automations.groupcommit import SentMarks
from automations.ports import Clock
from automations.queues import Inbox, InboxItem, Outbox, OutboxAction
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


class Sender(Protocol):
    """Performs one outbox action on a remote system."""

    async def send(self, action: OutboxAction) -> str:
        """Perform ``action`` and return what the remote side returned (kept as the action's result)."""
        ...


@runtime_checkable
class Reconciler(Protocol):
    """A :class:`Sender` that can tell whether an earlier attempt at an action already took effect remotely."""

    async def performed(self, action: OutboxAction) -> str | None:
        """The result to record when ``action`` is already there (an attempt whose outcome we never heard: a killed
        worker, a timeout), else ``None``; raise :class:`RetryLater` when the remote side cannot be asked now."""
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


class OutboxDispatcher(PollLoop):
    """Claims due outbox actions and performs each with the sender registered for its target."""

    def __init__(
        self,
        outbox: Outbox,
        senders: dict[str, Sender],
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 64,
        concurrency: int = 16,
        backlog: OutboxBacklog | None = None,
    ) -> None:
        """At most ``concurrency`` actions per target are in flight (actions about one contact go one after the
        other); :meth:`run` claims for each target in its own loop, so a slow target never holds another back.
        ``backlog`` is told what is claimed and settled (this process's inbox loops wait on it)."""
        super().__init__()
        self._outbox, self._senders, self._clock = outbox, senders, clock
        self._backoff = backoff or Backoff()
        self._lease, self._batch, self._concurrency = lease, batch, max(1, concurrency)
        self._backlog = backlog or OutboxBacklog()  # a private one (nobody waits on it) when not shared
        self._marks = SentMarks(outbox, clock)  # concurrent senders' "performed" records share a transaction

    @property
    def targets(self) -> frozenset[str]:
        """Targets this dispatcher has a sender for."""
        return frozenset(self._senders)

    async def run(self) -> None:
        """One loop per target until :meth:`stop` (see :meth:`PollLoop.run`)."""
        if len(self._senders) < 2:
            await super().run()
            return
        await asyncio.gather(*(self._target_loop(target) for target in sorted(self._senders)))

    async def _target_loop(self, target: str) -> None:
        empty = 0
        while not self._stop.is_set():
            try:
                done = await self.run_once([target])
            except Exception:
                log.exception("%s round for %s failed", type(self).__name__, target)
                done = 0
            empty = 0 if done else empty + 1
            if empty and not self._stop.is_set():
                await self.idle(empty)

    async def run_once(self, targets: Sequence[str] | None = None) -> int:
        """Claim and perform one batch (only for ``targets``, by default every target with a sender); returns how
        many were claimed.

        Actions about different contacts go out concurrently (at most ``concurrency`` at a time per target); those
        about one contact keep their planned order (:meth:`OutboxKeys.order_group`). An action is started only while
        at least half of its lease is left, and on :meth:`stop` not at all: those are released at once.
        """
        claimed_at, wanted = self._clock.now(), sorted(targets or self._senders)
        actions = await self._outbox.claim(now=claimed_at, lease=self._lease, limit=self._batch, targets=wanted)
        self._backlog.claimed(wanted, len(actions), full=len(actions) >= self._batch)
        unsettled = len(actions)

        def settled(count: int) -> None:
            nonlocal unsettled
            count = min(count, unsettled)  # a failed round's other groups may finish after it was written off
            unsettled -= count
            self._backlog.settled(count)

        try:
            await self._perform_all(actions, claimed_at, settled)
        finally:
            settled(unsettled)  # whatever a failing round left in hand (its lease brings it back)
        return len(actions)

    async def _perform_all(
        self, actions: list[OutboxAction], claimed_at: datetime, settled: Callable[[int], None]
    ) -> None:
        start_by = claimed_at + self._lease / 2
        groups: dict[str, list[OutboxAction]] = {}
        for action in actions:
            groups.setdefault(OutboxKeys.order_group(action.key), []).append(action)
        gates = {target: asyncio.Semaphore(self._concurrency) for target in {a.target for a in actions}}

        async def perform(group: list[OutboxAction]) -> None:
            async with gates[group[0].target]:
                for n, action in enumerate(group):
                    if self.stopping or self._clock.now() > start_by:
                        await self._outbox.release([a.key for a in group[n:]], now=self._clock.now())
                        settled(len(group) - n)
                        return
                    await self._perform(action)
                    settled(1)

        await asyncio.gather(*(perform(group) for group in groups.values()))

    async def _perform(self, action: OutboxAction) -> None:
        sender = self._senders[action.target]
        try:
            # claimed before and not released: an earlier attempt may have taken effect without our hearing of it
            known = await sender.performed(action) if action.attempts > 1 and isinstance(sender, Reconciler) else None
            result = known if known is not None else await sender.send(action)
        except PermanentFailure as exc:
            log.error("outbox %s (%s) failed permanently: %s", action.key, action.kind, exc)
            await self._outbox.kill(action.key, error=str(exc), now=self._clock.now())
            return
        except Exception as exc:
            await retry_or_kill(self._outbox, "outbox", action.key, action.attempts, exc, self._backoff, self._clock)
            return
        if known is not None:
            log.warning("outbox %s was already performed by an earlier attempt; not sending it again", action.key)
        await self._marks.sent(action.key, result)
