"""A circuit breaker for the model: after repeated failures, stop calling it for a while and answer extractively."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["BreakerState", "CircuitBreaker"]


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
