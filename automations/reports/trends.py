"""Period-over-period comparison of drivers: biggest movers, rising volume, falling deflection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from automations.reports.metrics import DEFAULT_COSTS, CostModel, Metrics, Slice, compute_metrics
from automations.reports.periods import Period
from automations.reports.ports import ReportSource

__all__ = ["DriverTrend", "compare", "driver_trends"]


@dataclass(frozen=True, slots=True)
class DriverTrend:
    """One driver (or driver group) in this period and the one before."""

    key: str
    group: str
    contacts: int
    previous_contacts: int
    deflection_rate: float | None
    previous_deflection_rate: float | None
    automation_rate: float | None
    settled: int
    deflected: int = 0
    previous_settled: int = 0
    previous_deflected: int = 0

    @property
    def delta(self) -> int:
        """Change in contacts."""
        return self.contacts - self.previous_contacts

    @property
    def volume_change(self) -> float | None:
        """Relative change in contacts (``None`` when the driver is new)."""
        return self.delta / self.previous_contacts if self.previous_contacts else None

    @property
    def deflection_change(self) -> float | None:
        """Change in deflection rate, in fraction points."""
        if self.deflection_rate is None or self.previous_deflection_rate is None:
            return None
        return self.deflection_rate - self.previous_deflection_rate

    def to_json(self) -> dict[str, Any]:
        """JSON-safe figures."""
        return {
            "key": self.key,
            "group": self.group,
            "contacts": self.contacts,
            "previous_contacts": self.previous_contacts,
            "volume_change": self.volume_change,
            "deflection_rate": self.deflection_rate,
            "previous_deflection_rate": self.previous_deflection_rate,
            "deflection_change": self.deflection_change,
            "automation_rate": self.automation_rate,
        }


def compare(current: Metrics, previous: Metrics, *, by: Literal["category", "group"] = "category") -> list[DriverTrend]:
    """Pair every driver of either period with its figures in the other, biggest absolute movers first."""
    now_slices = current.drivers if by == "category" else current.groups
    before: dict[str, Slice] = {s.key: s for s in (previous.drivers if by == "category" else previous.groups)}
    seen: dict[str, DriverTrend] = {}
    for s in now_slices:
        p = before.get(s.key)
        seen[s.key] = DriverTrend(
            s.key, s.group, s.contacts, p.contacts if p else 0, s.deflection_rate,
            p.deflection_rate if p else None, s.automation_rate, s.settled, s.deflected,
            p.settled if p else 0, p.deflected if p else 0,
        )  # fmt: skip
    for key, p in before.items():
        if key not in seen:
            seen[key] = DriverTrend(
                key, p.group, 0, p.contacts, None, p.deflection_rate, None, 0, 0, p.settled, p.deflected
            )
    return sorted(seen.values(), key=lambda t: (-abs(t.delta), -t.contacts, t.key))


async def driver_trends(
    source: ReportSource,
    period: Period,
    *,
    now: datetime,
    by: Literal["category", "group"] = "category",
    limit: int = 10,
    costs: CostModel = DEFAULT_COSTS,
) -> list[DriverTrend]:
    """Drivers of ``period`` against the period of the same length before it, biggest movers first."""
    await source.refresh()
    current, previous = await asyncio.gather(
        compute_metrics(source, period, now=now, costs=costs, refresh=False),
        compute_metrics(source, period.previous(), now=now, costs=costs, refresh=False),
    )
    return compare(current, previous, by=by)[:limit]
