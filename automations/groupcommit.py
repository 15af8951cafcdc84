"""Group commit: concurrent writes share one database transaction.

Each webhook must be persisted before it is acknowledged, and one transaction per request caps throughput at the
database's commit rate. :class:`GroupCommitInbox` queues concurrent :meth:`accept` calls while a write is in flight
and writes everything that queued up in the next transaction, so no request waits for a timer and each still returns
only after its own row is committed. :class:`SentMarks` does the same for the outbox's "performed" records, which
concurrent senders write after every action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from automations.ports import Clock
from automations.queues import Inbox, InboxItem, Outbox

__all__ = ["GroupCommitInbox", "SentMarks"]


class GroupCommitInbox:
    """An :class:`~automations.queues.Inbox` whose ``accept`` batches concurrent callers into one transaction."""

    def __init__(self, inner: Inbox, *, max_batch: int = 256) -> None:
        """Wrap ``inner``; at most ``max_batch`` items go into one transaction."""
        self._inner = inner
        self._max_batch = max_batch
        self._queue: list[tuple[InboxItem, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def accept(self, item: InboxItem) -> bool:
        """Persist ``item`` together with whatever else is waiting; returns once it is committed."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    @property
    def inner(self) -> Inbox:
        """The wrapped inbox."""
        return self._inner

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                results = await self._inner.accept_many([item for item, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), fresh in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(fresh)

    async def accept_many(self, items: Sequence[InboxItem]) -> list[bool]:
        """Delegate a ready-made batch."""
        return await self._inner.accept_many(items)

    async def claim(self, *, now: datetime, lease: timedelta, limit: int = 16) -> list[InboxItem]:
        """Delegate."""
        return await self._inner.claim(now=now, lease=lease, limit=limit)

    async def complete(self, item_id: str, *, now: datetime) -> None:
        """Delegate."""
        await self._inner.complete(item_id, now=now)

    async def complete_many(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Delegate."""
        await self._inner.complete_many(item_ids, now=now)

    async def retry(self, item_id: str, *, error: str, at: datetime) -> None:
        """Delegate."""
        await self._inner.retry(item_id, error=error, at=at)

    async def kill(self, item_id: str, *, error: str, now: datetime) -> None:
        """Delegate."""
        await self._inner.kill(item_id, error=error, now=now)

    async def release(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Delegate."""
        await self._inner.release(item_ids, now=now)

    async def get(self, item_id: str) -> InboxItem | None:
        """Delegate."""
        return await self._inner.get(item_id)

    async def pending(self) -> int:
        """Delegate."""
        return await self._inner.pending()


class SentMarks:
    """Records performed outbox actions: concurrent :meth:`sent` calls share one :meth:`Outbox.sent_many` write."""

    def __init__(self, outbox: Outbox, clock: Clock) -> None:
        """Write to ``outbox``, stamped with ``clock``."""
        self._outbox, self._clock = outbox, clock
        self._queue: list[tuple[str, str, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def sent(self, key: str, result: str) -> None:
        """Record ``key`` as performed with ``result``, together with whatever else is waiting; returns once it is
        committed (or raises what the write raised)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((key, result, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._outbox.sent_many([(key, result) for key, result, _ in batch], now=self._clock.now())
            except BaseException as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for *_, future in batch:
                if not future.done():
                    future.set_result(None)
