"""A circuit breaker for the model: after repeated failures, stop calling it for a while and answer extractively."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

from automations.llm.ports import ChatMessage, ChatModel

__all__ = ["BreakerState", "CircuitBreaker", "GuardedModel", "ModelUnavailable"]

log = logging.getLogger("autopilot.llm")


class BreakerState(StrEnum):
    """Closed: calls go through. Open: calls are refused. Half-open: one trial call decides."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; after ``reset_after_s`` lets one trial call through.

    ``clock`` returns monotonic seconds (injectable for tests).
    """

    def __init__(
        self, *, failures: int = 3, reset_after_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self._threshold = failures
        self._reset_after = reset_after_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        """Current state."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open state only one trial call is let through at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial:
            self._trial = True
            return True
        return False

    def success(self) -> None:
        """Record a successful call: the breaker closes."""
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        """Record a failed call: opens after the threshold, or at once when a half-open trial fails."""
        self._failures += 1
        if self._trial or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._trial = False


class ModelUnavailable(Exception):
    """The model gave no usable reply; ``reason`` is ``circuit_open``, ``timeout`` or ``model_error``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class GuardedModel:
    """A :class:`~automations.llm.ports.ChatModel` behind a deadline, bounded retries and a circuit breaker.

    One call may take at most ``timeout_s`` in all: errors are retried (at most ``max_retries`` times, with a short
    back-off) while time is left; a timeout is not retried. Each failed call counts once against the breaker.
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        timeout_s: float = 8.0,
        max_retries: int = 1,
        breaker: CircuitBreaker | None = None,
        backoff_s: float = 0.2,
    ) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.breaker = breaker or CircuitBreaker()
        self._backoff = backoff_s

    async def complete(self, messages: Sequence[ChatMessage]) -> str:
        """The model's reply, or :class:`ModelUnavailable`."""
        if not self.breaker.allow():
            raise ModelUnavailable("circuit_open")
        deadline = time.monotonic() + self.timeout_s
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                async with asyncio.timeout(left):
                    reply = await self.model.complete(messages)
            except TimeoutError:
                self.breaker.failure()
                raise ModelUnavailable("timeout", f"no reply within {self.timeout_s:g}s") from None
            except Exception as exc:  # any SDK or transport error: retried, then the caller falls back
                last = exc
                log.warning("model call failed (attempt %d): %s", attempt + 1, type(exc).__name__)
                await asyncio.sleep(min(self._backoff * 2**attempt, max(0.0, deadline - time.monotonic())))
                continue
            self.breaker.success()
            return reply
        self.breaker.failure()
        if last is None:
            raise ModelUnavailable("timeout", f"no reply within {self.timeout_s:g}s")
        raise ModelUnavailable("model_error", type(last).__name__) from last
