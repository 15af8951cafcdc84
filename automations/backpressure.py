"""Backpressure between a worker process's inbox loops and its outbox dispatcher.

They share one event loop, and deciding is CPU-bound: while every inbox loop is busy, the dispatcher's sends only
advance between decisions, so replies would queue up behind the inbox. :class:`OutboxBacklog` counts the actions
the dispatcher has claimed and not yet settled (sent, rescheduled, given up or handed back), and remembers whether
its last claim for a target came back full (more are due than it took), and the inbox loops take turns by it:

- nothing in hand: every inbox loop may claim and decide a batch;
- some actions in hand, at most ``limit``: one batch is decided at a time (the dispatcher's steps then wait behind
  one batch's work, not behind every loop's);
- more than ``limit`` in hand, or a claim came back full: no inbox loop claims a new batch (those already claimed are
  finished), so the event loop is the dispatcher's until its backlog is down to ``limit``.

Nothing is lost or reordered by waiting: unclaimed inbox items simply stay in the durable inbox for a moment, and a
stuck dispatcher holds the inbox back for at most ``max_wait_s`` at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence

__all__ = ["DEFAULT_BACKPRESSURE", "OutboxBacklog"]

DEFAULT_BACKPRESSURE = 32
"""Actions in the dispatcher's hand above which this process's inbox loops stop claiming (``OUTBOX_BACKPRESSURE``)."""


class OutboxBacklog:
    """What one process's outbox dispatcher has in hand; its inbox loops wait on :meth:`wait` before claiming."""

    def __init__(self, limit: int = DEFAULT_BACKPRESSURE, *, max_wait_s: float = 5.0, poll_s: float = 0.1) -> None:
        """Inbox loops wait while more than ``limit`` actions are in hand (or a claim came back full), for at most
        ``max_wait_s`` in a row; ``poll_s`` bounds how late a waiting loop notices a stop."""
        self.limit = max(0, limit)
        self._max_wait_s, self._poll_s = max_wait_s, poll_s
        self._in_hand, self._deciding = 0, 0
        self._behind: set[tuple[str, ...]] = set()
        self._open = asyncio.Event()
        self._open.set()
        self.waited_s = 0.0
        """Seconds inbox loops have spent waiting on this backlog (all loops together)."""

    @property
    def in_hand(self) -> int:
        """Actions claimed by the dispatcher and not yet settled."""
        return self._in_hand

    @property
    def clear(self) -> bool:
        """Inbox loops may claim: at most ``limit`` actions in hand and no claim came back full."""
        return self._in_hand <= self.limit and not self._behind

    @property
    def open(self) -> bool:
        """An inbox loop may claim a batch now: the backlog is :attr:`clear`, and either nothing is in hand or no
        other loop is deciding a batch."""
        return self.clear and (self._in_hand == 0 or self._deciding == 0)

    @contextlib.contextmanager
    def deciding(self) -> Iterator[None]:
        """Held by an inbox loop while it claims and decides a batch (after :meth:`wait`)."""
        self._deciding += 1
        self._update()
        try:
            yield
        finally:
            self._deciding -= 1
            self._update()

    def claimed(self, targets: Sequence[str], count: int, *, full: bool) -> None:
        """The dispatcher claimed ``count`` actions for ``targets``; ``full``: as many as it asked for (more may be
        due)."""
        self._in_hand += count
        key = tuple(sorted(targets))
        if full:
            self._behind.add(key)
        else:
            self._behind.discard(key)
        self._update()

    def settled(self, count: int = 1) -> None:
        """``count`` claimed actions were sent, rescheduled, given up or handed back."""
        self._in_hand = max(0, self._in_hand - count)
        self._update()

    def _update(self) -> None:
        if self.open:
            self._open.set()
        else:
            self._open.clear()

    async def wait(self, stop: asyncio.Event) -> None:
        """Return once an inbox loop may claim (:attr:`open`), ``stop`` is set, or ``max_wait_s`` has passed while
        the backlog was over its limit (one loop at a time always gets its turn)."""
        if self.open or stop.is_set():
            return
        started = time.monotonic()
        deadline = started + self._max_wait_s
        while not self.open and not stop.is_set():
            if not self.clear and time.monotonic() >= deadline:
                break  # a stuck dispatcher: decide a batch anyway
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._open.wait(), self._poll_s)
        self.waited_s += time.monotonic() - started
