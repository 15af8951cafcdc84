"""How the reports write numbers: rates, changes, durations, and rates on small samples with their interval."""

from __future__ import annotations

from automations.reports.stats import wilson

__all__ = [
    "MIN_BASE",
    "MULTIPLE_FROM",
    "WIDE_INTERVAL",
    "duration",
    "pct",
    "rate_text",
    "signed_change",
    "volume_text",
]

MIN_BASE = 20
"""The smallest base a change is stated on as a percentage; below it a driver is "new" (or "too few")."""
MULTIPLE_FROM = 3.0
"""Relative increases of this much or more (+300 %) are written as a multiple ("4.2x"), never as "+420%"."""
WIDE_INTERVAL = 0.10
"""A rate whose 95 % interval is wider than this (10 points, i.e. about ±5) is written with its interval."""


def pct(value: float | None, digits: int = 1) -> str:
    """``0.4567`` -> ``45.7%``; ``None`` -> ``n/a``."""
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def signed_change(value: float | None, *, points: bool = False) -> str:
    """A change as ``+12%`` (or ``+1.5 pts`` with ``points``); ``new`` when there was nothing before.

    Relative increases of :data:`MULTIPLE_FROM` or more are written as the multiple, ``4.2x``.
    """
    if value is None:
        return "new"
    if points:
        return f"{100 * value:+.1f} pts"
    if value >= MULTIPLE_FROM:
        return f"{value + 1:.1f}x"
    return f"{100 * value:+.0f}%"


def volume_text(current: int, previous: int) -> str:
    """The change of a count against the previous period: ``+12%``, ``2.5x``, or ``new (3 before)`` on a tiny base."""
    if previous < MIN_BASE:
        return "new" if previous == 0 else f"new ({previous:,} before)"
    return signed_change(current / previous - 1)


def rate_text(successes: int, n: int, *, unit: str = "") -> str:
    """``successes / n`` as a percentage, followed by its 95 % Wilson interval and ``n`` when that is wide.

    E.g. ``78.1%`` on a large sample, ``62% (95% CI 43-78%, n=24)`` on a small one, ``n/a`` when ``n`` is 0.
    """
    interval = wilson(successes, n)
    if interval is None:
        return "n/a"
    low, high = interval
    if high - low <= WIDE_INTERVAL:
        return pct(successes / n)
    what = f" {unit}" if unit else ""
    return f"{pct(successes / n, 0)} (95% CI {100 * low:.0f}-{100 * high:.0f}%, n={n:,}{what})"


def duration(seconds: float | None) -> str:
    """Seconds as ``42s``, ``17m``, ``3.5h`` or ``2.1d``."""
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h" if seconds < 172800 else f"{seconds / 86400:.1f}d"
