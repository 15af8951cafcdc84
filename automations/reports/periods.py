"""Reporting periods: ``today``, ``yesterday``, ``7d``, ``24h``, ``4w``, ``30d``, ``qtd``, ``mtd``, ``wtd``.

A period is a half-open interval ``[start, end)`` of aware UTC datetimes. Calendar periods (today, yesterday, the
quarter/month/week to date) start at midnight in the reporting time zone; rolling ones (``7d``, ``24h``) end now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Period", "parse_period"]

_ROLLING = re.compile(r"^(\d+)([hdw])$")
_UNIT = {"h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open reporting interval ``[start, end)`` with the label it was asked for."""

    label: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs timezone-aware bounds")
        if self.end <= self.start:
            raise ValueError(f"empty period {self.start} .. {self.end}")

    @property
    def length(self) -> timedelta:
        """Duration of the period."""
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length immediately before this one (for period-over-period movers)."""
        return Period(f"previous {self.label}", self.start - self.length, self.start)

    def describe(self) -> str:
        """Human-readable bounds, e.g. ``7d (2026-11-01 09:00 → 2026-11-08 09:00 UTC)``."""
        return f"{self.label} ({self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M} UTC)"


def _midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def parse_period(spec: str, now: datetime, tz: str = "UTC") -> Period:
    """Turn ``spec`` into a :class:`Period` ending at ``now`` (``yesterday`` ends at today's midnight).

    Accepts ``today``, ``yesterday``, ``wtd``, ``mtd``, ``qtd`` and rolling ``<n>h``/``<n>d``/``<n>w``.
    Raises :class:`ValueError` for anything else.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz)
    label = spec.strip().lower()
    today = _midnight(now, zone)
    if label == "today":
        start = today
    elif label == "yesterday":
        return Period(label, (today - timedelta(days=1)).astimezone(UTC), today.astimezone(UTC))
    elif label == "wtd":
        start = today - timedelta(days=today.weekday())
    elif label == "mtd":
        start = today.replace(day=1)
    elif label == "qtd":
        start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    else:
        match = _ROLLING.match(label)
        if match is None or int(match.group(1)) == 0:
            raise ValueError(f"unknown period {spec!r}: use today, yesterday, wtd, mtd, qtd, or e.g. 24h, 7d, 4w")
        return Period(label, now - timedelta(**{_UNIT[match.group(2)]: int(match.group(1))}), now)
    start_utc = start.astimezone(UTC)
    end = now if now > start_utc else start_utc + timedelta(seconds=1)
    return Period(label, start_utc, end)
