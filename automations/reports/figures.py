"""Small numeric building blocks of the reports: safe ratios and duration summaries from histograms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Durations", "histogram_durations", "ratio"]


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Durations:
    """Summary of a set of durations in seconds; ``None`` where there was no data (or no histogram)."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {"count": self.count, "mean_s": self.mean_s, "median_s": self.median_s, "p90_s": self.p90_s}


def _quantile(buckets: list[tuple[int, int]], total: int, q: float, width: int) -> float:
    """Quantile ``q`` from sorted ``(bucket, count)`` pairs, interpolating linearly inside the bucket."""
    target = q * total
    seen = 0
    for bucket, count in buckets:
        if seen + count >= target:
            inside = (target - seen) / count if count else 0.0
            return (bucket + inside) * width
        seen += count
    return (buckets[-1][0] + 1) * width


def histogram_durations(rows: Iterable[tuple[int, int, float]], width: int) -> Durations:
    """Summarise ``(bucket, count, total seconds)`` rows of a fixed-width histogram (several rows may share a
    bucket). The mean is exact; median and p90 are accurate to the bucket width, interpolated within it."""
    merged: dict[int, int] = {}
    total_s, count = 0.0, 0
    for bucket, n, seconds in rows:
        merged[bucket] = merged.get(bucket, 0) + n
        total_s += seconds
        count += n
    if not count:
        return Durations(0, None, None, None)
    buckets = sorted(merged.items())
    return Durations(
        count, total_s / count, _quantile(buckets, count, 0.5, width), _quantile(buckets, count, 0.9, width)
    )
