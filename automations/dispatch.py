"""The outbox dispatcher: claims due actions and performs each with the sender registered for its target.

Actions go out concurrently, per target, and exactly once however workers die (see :mod:`automations.delivery`).
Claiming is continuous: a target's loop claims more as soon as no more than ``concurrency`` actions are in hand, so an
action another worker released on its way out (``SIGTERM``) is taken within one send, not after a whole round.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from automations.backpressure import OutboxBacklog
from automations.effects import OutboxKeys
from automations.groupcommit import SentMarks
from automations.ports import Clock
from automations.queues import Outbox, OutboxAction
from automations.retrying import Backoff, PermanentFailure, PollLoop, retry_or_kill

__all__ = ["OutboxDispatcher", "Reconciler", "Sender"]

log = logging.getLogger("autopilot.delivery")


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
        """Claim and perform continuously until :meth:`stop`, one loop per target (so a slow target never holds
        another back); on stop, actions not started are released and those in flight finish."""
        await asyncio.gather(*(self._stream(target) for target in sorted(self._senders)))

    async def _stream(self, target: str) -> None:
        gate = asyncio.Semaphore(self._concurrency)
        tails: dict[str, asyncio.Task[None]] = {}  # the last chain of each order group: the next waits for it
        in_hand, freed, empty = 0, asyncio.Event(), 0
        room = min(self._batch, 2 * self._concurrency)  # claimed when half of this is free: one send's wait at most

        def settled(count: int) -> None:
            nonlocal in_hand
            in_hand -= count
            self._backlog.settled(count)
            freed.set()

        while not self._stop.is_set():
            if in_hand > room - self._concurrency:
                freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(freed.wait(), self.max_idle_s)  # a stop is noticed within that
                continue
            claimed_at, limit = self._clock.now(), room - in_hand
            try:
                actions = await self._outbox.claim(now=claimed_at, lease=self._lease, limit=limit, targets=[target])
            except Exception:
                log.exception("%s claim for %s failed", type(self).__name__, target)
                actions = []
            self._backlog.claimed([target], len(actions), full=len(actions) >= limit)
            in_hand += len(actions)
            for key, group in _groups(actions).items():
                chain = asyncio.create_task(self._chain(tails.get(key), group, gate, claimed_at, settled))
                tails[key] = chain
                chain.add_done_callback(functools.partial(_forget, tails, key))
            empty = 0 if actions else empty + 1
            if empty and not self._stop.is_set():
                await self.idle(empty)
        await asyncio.gather(*tails.values(), return_exceptions=True)

    async def _chain(
        self,
        before: asyncio.Task[None] | None,
        group: list[OutboxAction],
        gate: asyncio.Semaphore,
        claimed_at: datetime,
        settled: Callable[[int], None],
    ) -> None:
        """Perform one order group's actions after the group's earlier chain (claimed before) has finished."""
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)
        try:
            await self._perform_group(group, gate, claimed_at + self._lease / 2, settled)
        except Exception:
            log.exception("%s chain for %s failed", type(self).__name__, group[0].key)

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
        gates = {target: asyncio.Semaphore(self._concurrency) for target in {a.target for a in actions}}
        groups = _groups(actions).values()
        await asyncio.gather(*(self._perform_group(g, gates[g[0].target], start_by, settled) for g in groups))

    async def _perform_group(
        self, group: list[OutboxAction], gate: asyncio.Semaphore, start_by: datetime, settled: Callable[[int], None]
    ) -> None:
        """Perform ``group`` in order (one contact's actions), releasing what is left on stop or once ``start_by``
        has passed (less than half of the lease left)."""
        handed = 0
        try:
            async with gate:
                for n, action in enumerate(group):
                    if self.stopping or self._clock.now() > start_by:
                        await self._outbox.release([a.key for a in group[n:]], now=self._clock.now())
                        break
                    await self._perform(action)
                    handed += 1
                    settled(1)
        finally:
            settled(len(group) - handed)  # released, or left to the lease by a failure

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


def _forget(tails: dict[str, asyncio.Task[None]], key: str, done: asyncio.Task[None]) -> None:
    """Drop a finished chain from ``tails`` unless a later one of its group took its place."""
    if tails.get(key) is done:
        del tails[key]


def _groups(actions: Sequence[OutboxAction]) -> dict[str, list[OutboxAction]]:
    """``actions`` by order group (one contact's actions on one target), each in claimed order."""
    groups: dict[str, list[OutboxAction]] = {}
    for action in actions:
        groups.setdefault(OutboxKeys.order_group(action.key), []).append(action)
    return groups
