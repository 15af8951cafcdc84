"""Daily trend series of a period: contacts, deflection, automation, CSAT, SLA adherence, first response, repeats.

The source gives figures per UTC hour (:meth:`~automations.reports.ports.ReportSource.hourly_figures`); they are
summed into the days of the reporting time zone (exact for zones whole hours from UTC, which is nearly all), every
day touching the period included, so a 30-day period has 30 or 31 points. The first and last day may be partial;
each point says how many hours of it fall inside the period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from automations.reports.periods import Period
from automations.reports.ports import HourFigures
from automations.reports.values import ratio

__all__ = ["SPARKS", "DayPoint", "daily_series", "sparkline"]

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class DayPoint:
    """The figures of one local day (``hours``: how many of its hours fall in the period)."""

    day: date
    hours: float
    contacts: int = 0
    bot_answered: int = 0
    deflected: int = 0
    settled: int = 0
    repeats: int = 0
    csat_responses: int = 0
    csat_total: int = 0
    csat_satisfied: int = 0
    sla_met: int = 0
    sla_missed: int = 0
    frt_count: int = 0
    frt_total_s: float = 0.0
    provisional: bool = False

    @property
    def settled_deflection(self) -> float | None:
        """:attr:`deflection_rate`, or ``None`` while the day's answers are still inside the resolve window
        (escalations settle within minutes, resolutions only after the window: the rate would read low)."""
        return None if self.provisional else self.deflection_rate

    @property
    def settled_automation(self) -> float | None:
        """:attr:`automation_rate`, or ``None`` while the day is :attr:`provisional`."""
        return None if self.provisional else self.automation_rate

    @property
    def deflection_rate(self) -> float | None:
        """Deflected / settled bot answers."""
        return ratio(self.deflected, self.settled)

    @property
    def automation_rate(self) -> float | None:
        """Involvement x deflection."""
        involvement, deflection = ratio(self.bot_answered, self.contacts), self.deflection_rate
        return None if involvement is None or deflection is None else involvement * deflection

    @property
    def csat(self) -> float | None:
        """Mean CSAT (1..5)."""
        return ratio(self.csat_total, self.csat_responses)

    @property
    def sla_adherence(self) -> float | None:
        """Met / decided deadlines."""
        return ratio(self.sla_met, self.sla_met + self.sla_missed)

    @property
    def first_response_mean_s(self) -> float | None:
        """Mean first-response time of the day's hand-offs that had one."""
        return ratio(self.frt_total_s, self.frt_count)

    @property
    def repeat_rate(self) -> float | None:
        """Repeat contacts / contacts."""
        return ratio(self.repeats, self.contacts)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe point (rates 0..1, seconds)."""
        return {
            "date": self.day.isoformat(), "hours": self.hours, "contacts": self.contacts,
            "bot_answered": self.bot_answered, "deflection_rate": self.deflection_rate,
            "automation_rate": self.automation_rate, "csat": self.csat, "csat_responses": self.csat_responses,
            "sla_adherence": self.sla_adherence, "first_response_mean_s": self.first_response_mean_s,
            "repeat_rate": self.repeat_rate, "settled_answers": self.settled, "provisional": self.provisional,
        }  # fmt: skip


_SUMMED = (
    "contacts", "bot_answered", "deflected", "settled", "repeats", "csat_responses", "csat_total", "csat_satisfied",
    "sla_met", "sla_missed", "frt_count", "frt_total_s",
)  # fmt: skip


def _hours_in(day: date, zone: ZoneInfo, period: Period) -> float:
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)
    overlap = min(end, period.end) - max(start, period.start)
    return max(0.0, overlap.total_seconds() / 3600)


def daily_series(
    rows: Iterable[HourFigures], period: Period, tz: str = "UTC", *, settled_before: datetime | None = None
) -> tuple[DayPoint, ...]:
    """Sum hourly figures into the local days of ``period`` (zero-filled, oldest first).

    Days ending after ``settled_before`` (``now - resolve window``) are marked provisional: some of their answers
    are still pending, so their deflection is not final.
    """
    zone = ZoneInfo(tz)
    first, last = period.start.astimezone(zone).date(), (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    sums: dict[date, dict[str, float]] = {}
    for row in rows:
        day = row.hour.astimezone(zone).date()
        acc = sums.setdefault(day, dict.fromkeys(_SUMMED, 0))
        for name in _SUMMED:
            acc[name] += getattr(row, name)
    points = []
    day = first
    while day <= last:
        acc = sums.get(day, {})
        ints = {k: int(v) for k, v in acc.items() if k != "frt_total_s"}
        end = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=1)
        provisional = settled_before is not None and end > settled_before
        frt = float(acc.get("frt_total_s", 0))
        points.append(DayPoint(day, _hours_in(day, zone, period), **ints, frt_total_s=frt, provisional=provisional))
        day += timedelta(days=1)
    return tuple(points)


def sparkline(values: Iterable[float | None]) -> str:
    """Values as a line of block characters (``·`` for a missing value), scaled between their min and max."""
    data = list(values)
    known = [v for v in data if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in data:
        if v is None:
            out.append("·")
        else:
            out.append(SPARKS[0 if span == 0 else min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))])
    return "".join(out)
