"""Contact-driver spike detection against an hour-of-week baseline.

For the hour just ended, each driver's count is compared with the same hour of the week in the previous ``weeks``
weeks. The baseline is their mean (at least ``floor``, so a quiet driver needs a real burst); the hour is a spike
when the count is at least ``min_count``, at least ``ratio`` times the baseline, and improbable under a Poisson
model of the baseline (upper-tail p-value below ``alpha``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scipy.stats import poisson

from automations.reports.ports import ReportSource

__all__ = ["Spike", "SpikeRule", "SpikeTest", "detect_spike", "find_spikes", "spike_examples"]


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """Thresholds of the spike test."""

    weeks: int = 4
    min_count: int = 5
    ratio: float = 2.0
    alpha: float = 0.001
    floor: float = 0.5


@dataclass(frozen=True, slots=True)
class SpikeTest:
    """Outcome of testing one count against its history."""

    observed: int
    baseline: float
    p_value: float
    spike: bool


@dataclass(frozen=True, slots=True)
class Spike:
    """A driver that spiked in one hour."""

    category: str
    hour: datetime
    observed: int
    baseline: float
    p_value: float


def detect_spike(observed: int, history: Sequence[int], rule: SpikeRule = SpikeRule()) -> SpikeTest:
    """Test ``observed`` against the same hour-of-week counts in previous weeks (``history``)."""
    baseline = max(rule.floor, sum(history) / len(history) if history else 0.0)
    p_value = float(poisson.sf(observed - 1, baseline)) if observed > 0 else 1.0
    spike = observed >= rule.min_count and observed >= rule.ratio * baseline and p_value < rule.alpha
    return SpikeTest(observed, baseline, p_value, spike)


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def find_spikes(source: ReportSource, now: datetime, rule: SpikeRule = SpikeRule()) -> list[Spike]:
    """Drivers that spiked in the last full hour before ``now``, most significant first (``source`` refreshed)."""
    await source.refresh()
    hour = _hour_floor(now) - timedelta(hours=1)
    windows = [
        (hour - timedelta(weeks=w), hour - timedelta(weeks=w) + timedelta(hours=1)) for w in range(rule.weeks + 1)
    ]
    rows = await source.hourly_counts(windows, by_category=True)
    by_category: dict[str, dict[datetime, int]] = {}
    for row in rows:
        slot = by_category.setdefault(row.key, {})
        slot[row.hour] = slot.get(row.hour, 0) + row.count
    past = [hour - timedelta(weeks=w) for w in range(1, rule.weeks + 1)]
    spikes = []
    for category, counts in by_category.items():
        test = detect_spike(counts.get(hour, 0), [counts.get(p, 0) for p in past], rule)
        if test.spike:
            spikes.append(Spike(category, hour, test.observed, test.baseline, test.p_value))
    return sorted(spikes, key=lambda s: (s.p_value, s.category))


async def spike_examples(source: ReportSource, spike: Spike, *, limit: int = 3) -> tuple[str, ...]:
    """A few (redacted) customer messages of the spiking driver in the spike hour, latest first."""
    texts = await source.contact_texts(spike.category, spike.hour, spike.hour + timedelta(hours=1), limit=limit)
    return tuple(texts)
