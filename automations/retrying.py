"""What the delivery loops share: transient and permanent failures, bounded backoff, and the poll loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from automations.ports import Clock

__all__ = ["STOP_GRACE_S", "Backoff", "PermanentFailure", "PollLoop", "RetryLater", "Retryable", "retry_or_kill"]

log = logging.getLogger("autopilot.delivery")

STOP_GRACE_S = 4.0
"""How long a stopping process lets its workers finish the items in hand (a shutdown completes within 5 s)."""


class RetryLater(Exception):
    """A transient failure (429, 5xx, timeout): try again, no sooner than ``retry_after`` seconds when given."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """A failure that retrying cannot fix (for example a 4xx other than 429)."""


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


class Retryable(Protocol):
    """What the inbox and the outbox share for a failed item: retry later, or give up."""

    async def retry(self, key: str, /, *, error: str, at: datetime) -> None:
        """Make the item due again at ``at``, recording ``error``."""
        ...

    async def kill(self, key: str, /, *, error: str, now: datetime) -> None:
        """Give up on the item."""
        ...


async def retry_or_kill(
    queue: Retryable, what: str, key: str, attempts: int, exc: Exception, backoff: Backoff, clock: Clock
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


class PollLoop:
    """Shared poll loop: ``run_once`` until stopped, sleeping when there was nothing to do: ``idle_s`` after one empty
    round, doubling with each further one up to ``max_idle_s`` (an idle worker polls a few times a second, not twenty),
    unless :meth:`wake` is called."""

    idle_s: float = 0.05
    max_idle_s: float = 0.4

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

    async def idle(self, empty: int) -> None:
        """Wait after the ``empty``-th empty round in a row (see the class), or until :meth:`wake`; a wake that came
        while the round ran is not lost."""
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(self.max_idle_s, self.idle_s * 2 ** min(empty - 1, 16)))
        self._wake.clear()

    async def run(self) -> None:
        """Process until :meth:`stop`; a failing round is logged and retried, never fatal."""
        empty = 0
        while not self._stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("%s round failed", type(self).__name__)
                done = 0
            empty = 0 if done else empty + 1
            if empty and not self._stop.is_set():
                await self.idle(empty)
