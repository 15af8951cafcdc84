"""Contact forecast by hour for the coming week, from history with weekly seasonality, and the shifts to staff it.

Method (seasonal, recency-weighted): for each hour of the week (in the reporting time zone), the forecast is the
weighted mean of that hour's count in the last ``weeks`` weeks where it is already over, the most recent weighing
most (weights ``weeks, weeks-1, ..., 1``). Hand-offs (the contacts that need an agent) are forecast the same way and
drive the staffing; the bot answers the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from automations.reports.ports import ReportSource
from automations.reports.staffing import erlang_c_agents

__all__ = ["DEFAULT_SHIFTS", "HourForecast", "ShiftPlan", "WeekForecast", "forecast_week", "plan_shifts", "seasonal"]

DEFAULT_SHIFTS: tuple[tuple[str, int, int], ...] = (("night", 0, 8), ("early", 8, 16), ("late", 16, 24))
"""Shift name, first local hour, end local hour (exclusive)."""


@dataclass(frozen=True, slots=True)
class HourForecast:
    """Expected contacts and hand-offs in one local hour."""

    start: datetime
    contacts: float
    handoffs: float


@dataclass(frozen=True, slots=True)
class WeekForecast:
    """168 hourly forecasts from the next local midnight, and the history they came from."""

    hours: tuple[HourForecast, ...]
    weeks_of_history: int
    tz: str


@dataclass(frozen=True, slots=True)
class ShiftPlan:
    """Agents to roster for one shift of one day: enough for its busiest hour."""

    day: str
    shift: str
    start: datetime
    peak_handoffs_per_hour: float
    expected_handoffs: float
    agents: int

    def to_json(self) -> dict[str, Any]:
        """JSON-safe plan."""
        return {
            "day": self.day, "shift": self.shift, "start": self.start.isoformat(),
            "peak_handoffs_per_hour": round(self.peak_handoffs_per_hour, 2),
            "expected_handoffs": round(self.expected_handoffs, 1), "agents": self.agents,
        }  # fmt: skip


def seasonal(history: Sequence[Sequence[float]]) -> list[float]:
    """Recency-weighted mean per position over equally long seasons, oldest season first."""
    if not history:
        return []
    weights = range(1, len(history) + 1)
    total = sum(weights)
    return [
        sum(w * season[i] for w, season in zip(weights, history, strict=True)) / total for i in range(len(history[0]))
    ]


async def forecast_week(source: ReportSource, now: datetime, *, weeks: int = 4, tz: str = "UTC") -> WeekForecast:
    """Forecast the 168 hours from the next local midnight from the last ``weeks`` weeks before it (``source``'s
    hourly counts, refreshed first)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    hours = [start + timedelta(hours=h) for h in range(168)]
    history_start = (start - timedelta(weeks=weeks + 1)).astimezone(UTC)
    await source.refresh()
    rows = await source.hourly_counts([(history_start, now.astimezone(UTC))])
    counts: dict[datetime, tuple[float, float]] = {}
    for row in rows:
        c, x = counts.get(row.hour, (0.0, 0.0))
        counts[row.hour] = (c + row.count, x + (row.count if row.action == "handoff" else 0))
    contacts: list[float] = []
    handoffs: list[float] = []
    for h in hours:
        # the same hour in each of the last `weeks` weeks that are complete before now, oldest first
        past = [(h - timedelta(weeks=k)).astimezone(UTC) for k in range(weeks + 1, 0, -1)]
        past = [p for p in past if p + timedelta(hours=1) <= now][-weeks:]
        contacts += seasonal([[counts.get(p, (0.0, 0.0))[0]] for p in past]) or [0.0]
        handoffs += seasonal([[counts.get(p, (0.0, 0.0))[1]] for p in past]) or [0.0]
    return WeekForecast(
        tuple(HourForecast(h, c, x) for h, c, x in zip(hours, contacts, handoffs, strict=True)), weeks, tz
    )


def plan_shifts(
    forecast: WeekForecast,
    *,
    aht_seconds: float,
    service_level: float = 0.8,
    answer_within_s: float = 60.0,
    shrinkage: float = 0.3,
    shifts: Sequence[tuple[str, int, int]] = DEFAULT_SHIFTS,
) -> list[ShiftPlan]:
    """Agents per shift and day: the Erlang C requirement of the shift's busiest forecast hour of hand-offs."""
    plans: list[ShiftPlan] = []
    for day in range(7):
        day_hours = forecast.hours[24 * day : 24 * (day + 1)]
        for name, first, end in shifts:
            block = [h for h in day_hours if first <= h.start.hour < end]
            if not block:
                continue
            peak = max(h.handoffs for h in block)
            need = erlang_c_agents(
                math.ceil(peak), aht_seconds, service_level=service_level, answer_within_s=answer_within_s,
                shrinkage=shrinkage,
            )  # fmt: skip
            plans.append(
                ShiftPlan(
                    block[0].start.strftime("%a %Y-%m-%d"),
                    name,
                    block[0].start,
                    peak,
                    sum(h.handoffs for h in block),
                    need.agents,
                )
            )
    return plans
