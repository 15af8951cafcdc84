"""Published industry figures (``automations/data/benchmarks.yaml``, ``BENCHMARKS_PATH``) beside ours.

Each figure has its source, its year and a link; the file maps our channels (``contacts.source``) to the channels
the figures were measured on. The report places our figure for the same metric and channel beside each one, and
says which of our metrics have no comparable published figure (rather than comparing with one that measures
something else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from automations.configfile import Issue, load_yaml_model
from automations.reports.metrics import Metrics
from automations.reports.values import Slice
from automations.reports.wording import duration, pct
from automations.resources import data_path

__all__ = [
    "BENCHMARK_METRICS",
    "DEFAULT_BENCHMARKS",
    "NOT_BENCHMARKED",
    "Benchmark",
    "BenchmarkFile",
    "Comparison",
    "compare_benchmarks",
    "load_benchmarks",
]

DEFAULT_BENCHMARKS = data_path("benchmarks.yaml")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

BENCHMARK_METRICS = {
    "first_response_mean": "mean first response (hand-offs)",
    "csat_satisfied_share": "share of satisfied ratings (CSAT 4-5)",
    "automation_rate": "contacts fully resolved without a person",
}
"""The metrics a published figure can be compared with, and what ours measures."""
NOT_BENCHMARKED = {
    "deflection rate": "AI and self-service vendors each define their resolution rate their own way",
    "SLA adherence": "SLAs are set by each company, so adherence is not comparable across companies",
    "repeat contact rate": "no published figure with the same 7-day, same-driver definition",
}
"""Our metrics with no comparable published figure, and why."""


def _value(value: object) -> object:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r}: give a fraction 0..1 or a duration such as 37s or 12h")
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))}).total_seconds()
    return value


class Benchmark(BaseModel):
    """One published figure (durations are stored in seconds, rates as fractions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["first_response_mean", "csat_satisfied_share", "automation_rate"]
    channel: str | None = None
    value: Annotated[float, BeforeValidator(_value), Field(ge=0)]
    source: Annotated[str, Field(min_length=3)]
    year: Annotated[int, Field(ge=1990, le=2100)]
    url: Annotated[str, Field(pattern=r"^https?://")]
    note: str = ""

    def value_text(self) -> str:
        """The figure as written in the report."""
        return duration(self.value) if self.metric == "first_response_mean" else pct(self.value)


class BenchmarkFile(BaseModel):
    """The benchmarks file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    channels: dict[str, str] = Field(default_factory=dict)
    benchmarks: list[Benchmark] = Field(default_factory=list)


def _check(data: BenchmarkFile) -> list[Issue]:
    known = set(data.channels.values())
    issues: list[Issue] = []
    for i, b in enumerate(data.benchmarks):
        if b.channel is not None and b.channel not in known:
            issues.append((("benchmarks", i, "channel"), f"{b.channel!r} is none of the channels mapped in channels"))
        if b.metric != "first_response_mean" and b.value > 1:
            issues.append((("benchmarks", i, "value"), "a rate must be a fraction between 0 and 1"))
    return issues


def load_benchmarks(path: Path | str = DEFAULT_BENCHMARKS) -> BenchmarkFile:
    """Load and validate a benchmarks file; errors name the file and line."""
    return load_yaml_model(path, BenchmarkFile, _check)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A published figure and ours for the same metric and channel (``ours`` is ``None`` without data)."""

    benchmark: Benchmark
    ours: float | None
    base: int
    scope: str

    def text(self) -> str:
        """One line: our figure, theirs, the source and year."""
        b = self.benchmark
        what = BENCHMARK_METRICS[b.metric] + (f", {b.channel}" if b.channel else "")
        if self.ours is None:
            mine = f"no data on {self.scope} in this period"
        else:
            mine = (duration(self.ours) if b.metric == "first_response_mean" else pct(self.ours)) + (
                f" ({self.scope}, n={self.base:,})"
            )
        note = f"; {b.note}" if b.note else ""
        return f"{what[:1].upper()}{what[1:]}: ours {mine}; published {b.value_text()} ({b.source}, {b.year}{note})"

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view."""
        b = self.benchmark
        return {"metric": b.metric, "channel": b.channel, "ours": self.ours, "base": self.base, "scope": self.scope,
                "published": b.value, "source": b.source, "year": b.year, "url": b.url, "note": b.note}  # fmt: skip


def _ours(metric: str, s: Slice, m: Metrics | None) -> tuple[float | None, int]:
    if metric == "first_response_mean":
        return s.first_response_mean_s, s.frt_count
    if metric == "automation_rate":
        return s.automation_rate, s.contacts
    if m is not None:  # the satisfied share is only known overall
        return m.csat.satisfied_share, m.csat.responses
    return None, 0


def compare_benchmarks(m: Metrics, data: BenchmarkFile) -> tuple[Comparison, ...]:
    """Each published figure beside ours: per mapped channel when it names one, else overall."""
    by_channel: dict[str, list[Slice]] = {}
    for s in m.channels:
        name = data.channels.get(s.key)
        if name is not None:
            by_channel.setdefault(name, []).append(s)
    found = []
    for b in data.benchmarks:
        if b.channel is None or b.metric == "csat_satisfied_share":
            ours, base = _ours(b.metric, m.overall, m)
            found.append(Comparison(b, ours if base else None, base, "all channels"))
            continue
        slices = by_channel.get(b.channel, [])
        sources = ", ".join(sorted(s.key for s in slices)) or b.channel
        values = [_ours(b.metric, s, None) for s in slices]
        base = sum(n for _, n in values)
        ours = sum((v or 0) * n for v, n in values) / base if base else None
        found.append(Comparison(b, ours, base, sources))
    return tuple(found)
