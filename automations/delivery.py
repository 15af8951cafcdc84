"""Background workers over the durable queues: process inbox items, perform outbox actions.

Both loops are transport-agnostic. An inbox :class:`ItemHandler` turns one received delivery into decisions and
outbox actions; an outbox :class:`Sender` performs one action on a remote system. Failures are retried with capped
exponential backoff that honours a server's ``Retry-After``; attempts are bounded, and an item that exhausts them is
marked ``dead`` (kept for operators and counted in metrics) instead of being retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from automations.effects import OutboxKeys
from automations.ports import Clock
from automations.queues import Inbox, InboxItem, Outbox, OutboxAction

__all__ = [
    "STOP_GRACE_S",
    "Backoff",
    "InboxProcessor",
    "ItemHandler",
    "OutboxDispatcher",
    "PermanentFailure",
    "RetryLater",
    "Sender",
]

STOP_GRACE_S = 4.0
"""How long a stopping process lets its workers finish the items in hand (a shutdown completes within 5 s)."""
log = logging.getLogger("autopilot.delivery")


class RetryLater(Exception):
    """A transient failure (429, 5xx, timeout): try again, no sooner than ``retry_after`` seconds when given."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """A failure that retrying cannot fix (for example a 4xx other than 429)."""


class ItemHandler(Protocol):
    """Processes one inbox item (idempotently: it may see the same item again after a crash)."""

    async def handle(self, item: InboxItem) -> None:
        """Process ``item``; raise :class:`RetryLater` or any exception to have it retried."""
        ...


class Sender(Protocol):
    """Performs one outbox action on a remote system."""

    async def send(self, action: OutboxAction) -> str:
        """Perform ``action`` and return what the remote side returned (kept as the action's result)."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter; ``Retry-After`` wins when the server gives one."""

    base_s: float = 1.0
    max_s: float = 300.0
    max_attempts: int = 25
    jitter: float = 0.1

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt number ``attempts + 1``."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_s * 4)
        raw = min(self.base_s * 2.0 ** max(attempts - 1, 0), self.max_s)
        return float(raw * (1 + random.uniform(0, self.jitter)))

    def after(self, attempts: int, error: Exception) -> float | None:
        """Seconds to wait after the failed attempt number ``attempts``, or ``None`` when attempts are used up."""
        if attempts >= self.max_attempts:
            return None
        return self.delay(attempts, error.retry_after if isinstance(error, RetryLater) else None)


class _Retryable(Protocol):
    """What the inbox and the outbox share for a failed item: retry later, or give up."""

    async def retry(self, key: str, /, *, error: str, at: datetime) -> None: ...

    async def kill(self, key: str, /, *, error: str, now: datetime) -> None: ...


async def _failed(
    queue: _Retryable, what: str, key: str, attempts: int, exc: Exception, backoff: Backoff, clock: Clock
) -> None:
    """Schedule the retry the backoff allows after failed attempt ``attempts``, or mark the item dead."""
    error = f"{type(exc).__name__}: {exc}"
    delay = backoff.after(attempts, exc)
    if delay is None:
        log.error("%s %s gave up after %d attempts; marking dead: %s", what, key, attempts, error)
        await queue.kill(key, error=error, now=clock.now())
        return
    log.warning("%s %s attempt %d failed, retrying in %.1fs: %s", what, key, attempts, delay, error)
    await queue.retry(key, error=error, at=clock.now() + timedelta(seconds=delay))


class _Loop:
    """Shared poll loop: ``run_once`` until stopped, sleeping ``idle_s`` when there was nothing to do."""

    idle_s: float = 0.05

    def __init__(self) -> None:
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    async def run_once(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def wake(self) -> None:
        """Skip the idle wait (called when new work was just written)."""
        self._wake.set()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the item in hand; claimed items not started are released."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was called."""
        return self._stop.is_set()

    async def run(self) -> None:
        """Process until :meth:`stop`; a failing round is logged and retried, never fatal."""
        while not self._stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("%s round failed", type(self).__name__)
                done = 0
            if not done and not self._stop.is_set():
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_s)


class InboxProcessor(_Loop):
    """Claims inbox items and hands each to the handler registered for its source."""

    def __init__(
        self,
        inbox: Inbox,
        handlers: dict[str, ItemHandler],
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 16,
    ) -> None:
        super().__init__()
        self._inbox, self._handlers, self._clock = inbox, handlers, clock
        self._backoff = backoff or Backoff(max_s=60.0, max_attempts=10)
        self._lease, self._batch = lease, batch

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many items were claimed. Once :meth:`stop` is called, the items
        of the batch not yet started are released at once (not left to their lease)."""
        items = await self._inbox.claim(now=self._clock.now(), lease=self._lease, limit=self._batch)
        for n, item in enumerate(items):
            if self.stopping:
                await self._inbox.release([i.id for i in items[n:]], now=self._clock.now())
                log.info("released %d claimed inbox items on shutdown", len(items) - n)
                break
            await self._process(item)
        return len(items)

    async def _process(self, item: InboxItem) -> None:
        handler = self._handlers.get(item.source)
        if handler is None:
            await self._inbox.kill(item.id, error=f"no handler for source {item.source!r}", now=self._clock.now())
            return
        try:
            await handler.handle(item)
        except Exception as exc:
            await _failed(self._inbox, "inbox item", item.id, item.attempts, exc, self._backoff, self._clock)
            return
        await self._inbox.complete(item.id, now=self._clock.now())


class OutboxDispatcher(_Loop):
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
        concurrency: int = 1,
    ) -> None:
        """``concurrency`` above 1 sends actions about different contacts at once. It stays 1 in the service: a
        process killed with SIGKILL mid-send leaves every in-flight action to be sent again after its lease (no
        sender checks whether Intercom already has it), and more in flight means more duplicated replies."""
        super().__init__()
        self._outbox, self._senders, self._clock = outbox, senders, clock
        self._backoff = backoff or Backoff()
        self._lease, self._batch, self._concurrency = lease, batch, concurrency

    @property
    def targets(self) -> frozenset[str]:
        """Targets this dispatcher has a sender for."""
        return frozenset(self._senders)

    async def run_once(self) -> int:
        """Claim and perform one batch (only for targets with a sender); returns how many were claimed.

        Actions about different contacts go out concurrently (at most ``concurrency`` at a time); those about one
        contact keep their planned order (:meth:`OutboxKeys.order_group`). On :meth:`stop`, actions not yet started
        are released at once.
        """
        actions = await self._outbox.claim(
            now=self._clock.now(), lease=self._lease, limit=self._batch, targets=sorted(self._senders)
        )
        groups: dict[str, list[OutboxAction]] = {}
        for action in actions:
            groups.setdefault(OutboxKeys.order_group(action.key), []).append(action)
        gate = asyncio.Semaphore(self._concurrency)

        async def perform(group: list[OutboxAction]) -> None:
            async with gate:
                for n, action in enumerate(group):
                    if self.stopping:
                        await self._outbox.release([a.key for a in group[n:]], now=self._clock.now())
                        return
                    await self._perform(action)

        await asyncio.gather(*(perform(group) for group in groups.values()))
        return len(actions)

    async def _perform(self, action: OutboxAction) -> None:
        sender = self._senders[action.target]
        try:
            result = await sender.send(action)
        except PermanentFailure as exc:
            log.error("outbox %s (%s) failed permanently: %s", action.key, action.kind, exc)
            await self._outbox.kill(action.key, error=str(exc), now=self._clock.now())
            return
        except Exception as exc:
            await _failed(self._outbox, "outbox", action.key, action.attempts, exc, self._backoff, self._clock)
            return
        await self._outbox.sent(action.key, now=self._clock.now(), result=result)
