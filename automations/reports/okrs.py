"""Half-year OKR targets (``automations/data/okrs.yaml``, ``OKRS_PATH``) and the progress of figures against them.

A target is an *at least* (deflection, CSAT, QA score, SLA adherence) or an *at most* (median first response, repeat
contact rate) for one half-year, ``H1-2026`` (January to June) or ``H2-2026`` (July to December) in the reporting
time zone. The file is validated at load; an error names the file and the line, e.g.
``automations/data/okrs.yaml:9: halves.0.targets.deflection_rate: Input should be less than or equal to 1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from automations.configfile import Issue, load_yaml_model
from automations.reports.metrics import Metrics
from automations.reports.periods import Period
from automations.reports.stats import wilson
from automations.reports.wording import duration, pct
from automations.resources import data_path

__all__ = [
    "DEFAULT_OKRS",
    "OKR_METRICS",
    "HalfTargets",
    "OkrFile",
    "Progress",
    "Targets",
    "half_label",
    "half_period",
    "load_okrs",
    "okr_progress",
]

DEFAULT_OKRS = data_path("okrs.yaml")
_HALF = re.compile(r"^H([12])-(\d{4})$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

OKR_METRICS: dict[str, tuple[str, Literal["at_least", "at_most"]]] = {
    "deflection_rate": ("Deflection", "at_least"),
    "first_response_median": ("Median first response", "at_most"),
    "csat": ("CSAT", "at_least"),
    "qa_score": ("QA score", "at_least"),
    "sla_adherence": ("SLA adherence", "at_least"),
    "repeat_contact_rate": ("Repeat contact rate", "at_most"),
}
"""Every metric a target may be set on: its name and whether it must be at least or at most the target."""


def _duration(value: object) -> object:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"duration {value!r} must look like 90s, 45m or 4h")
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    return value


Rate = Annotated[float, Field(ge=0, le=1)]


class Targets(BaseModel):
    """The targets of one half; any may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deflection_rate: Rate | None = None
    first_response_median: Annotated[timedelta, BeforeValidator(_duration), Field(gt=timedelta(0))] | None = None
    csat: Annotated[float, Field(ge=1, le=5)] | None = None
    qa_score: Rate | None = None
    sla_adherence: Rate | None = None
    repeat_contact_rate: Rate | None = None


class HalfTargets(BaseModel):
    """One half-year: its label, what it is for, and its targets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    half: Annotated[str, Field(pattern=_HALF.pattern)]
    objective: str = ""
    targets: Targets


class OkrFile(BaseModel):
    """The OKR file: targets per half-year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    halves: list[HalfTargets] = Field(default_factory=list)

    def for_half(self, label: str) -> HalfTargets | None:
        """The targets of half ``label`` (e.g. ``H2-2026``), if set."""
        return next((h for h in self.halves if h.half == label), None)


def _check(okrs: OkrFile) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, half in enumerate(okrs.halves):
        if half.half in seen:
            issues.append((("halves", i, "half"), f"{half.half} appears twice"))
        seen.add(half.half)
        if not half.targets.model_dump(exclude_none=True):
            issues.append((("halves", i, "targets"), "set at least one target"))
    return issues


def load_okrs(path: Path | str = DEFAULT_OKRS) -> OkrFile:
    """Load and validate an OKR file; errors name the file and line (:class:`~automations.configfile.ConfigError`)."""
    return load_yaml_model(path, OkrFile, _check)


def half_label(moment: datetime, tz: str = "UTC") -> str:
    """The half-year ``moment`` falls in, in time zone ``tz``: ``H1-2026`` or ``H2-2026``."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"H{1 if local.month <= 6 else 2}-{local.year}"


def half_period(label: str, tz: str = "UTC", *, now: datetime | None = None) -> Period:
    """The half-year ``label`` as a period in ``tz``, cut at ``now`` when it is still running.

    Raises :class:`ValueError` for a malformed label or a half that has not started by ``now``.
    """
    match = _HALF.match(label.strip().upper())
    if match is None:
        raise ValueError(f"unknown half-year {label!r}: use e.g. H1-2026 or H2-2026")
    first, year, zone = int(match.group(1)), int(match.group(2)), ZoneInfo(tz)
    start = datetime(year, 1 if first == 1 else 7, 1, tzinfo=zone)
    end = datetime(year, 7, 1, tzinfo=zone) if first == 1 else datetime(year + 1, 1, 1, tzinfo=zone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if now is not None and now <= start:
        raise ValueError(f"{label} has not started yet")
    return Period(match.group(0), start, min(end, now) if now is not None else end)


@dataclass(frozen=True, slots=True)
class Progress:
    """One metric against its target: ``status`` is ``met``, ``missed`` or ``no_data``; ``certain`` is false when
    the target lies inside the 95 % interval of a rate (too close to call)."""

    metric: str
    target: float
    actual: float | None
    status: str
    certain: bool = True
    base: int = 0

    @property
    def name(self) -> str:
        """The metric's name."""
        return OKR_METRICS[self.metric][0]

    @property
    def direction(self) -> str:
        """``at_least`` or ``at_most``."""
        return OKR_METRICS[self.metric][1]

    def _fmt(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        if self.metric == "first_response_median":
            return duration(value)
        return f"{value:.2f}" if self.metric == "csat" else pct(value)

    def text(self) -> str:
        """One line, e.g. ``Deflection 75.0% against at least 78.0%: missed``."""
        sign = "at least" if self.direction == "at_least" else "at most"
        if self.status == "no_data":
            why = "no QA scores are recorded yet" if self.metric == "qa_score" else "no data in the period"
            return f"{self.name}: target {sign} {self._fmt(self.target)}; {why}"
        close = " (within the margin of error)" if not self.certain else ""
        return f"{self.name} {self._fmt(self.actual)} against {sign} {self._fmt(self.target)}: {self.status}{close}"

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view (seconds for durations, fractions for rates)."""
        return {"metric": self.metric, "direction": self.direction, "target": self.target, "actual": self.actual,
                "status": self.status, "certain": self.certain, "base": self.base}  # fmt: skip


def _judge(metric: str, target: float, actual: float | None, counts: tuple[int, int] | None = None) -> Progress:
    if actual is None:
        return Progress(metric, target, None, "no_data")
    at_least = OKR_METRICS[metric][1] == "at_least"
    met = actual >= target if at_least else actual <= target
    certain, base = True, 0
    if counts is not None:
        interval = wilson(*counts)
        base = counts[1]
        certain = interval is None or not (interval[0] <= target <= interval[1])
    return Progress(metric, target, actual, "met" if met else "missed", certain, base)


def okr_progress(m: Metrics, targets: Targets, *, qa_score: float | None = None) -> tuple[Progress, ...]:
    """Each set target against the figures of ``m`` (``qa_score`` when auto-QA scores exist)."""
    o = m.overall
    met = sum(t.first_response_met + t.resolution_met for t in m.sla)
    decided = met + sum(t.first_response_missed + t.resolution_missed for t in m.sla)
    found: list[Progress] = []
    if targets.deflection_rate is not None:
        found.append(_judge("deflection_rate", targets.deflection_rate, o.deflection_rate, (o.deflected, o.settled)))
    if targets.first_response_median is not None:
        limit = targets.first_response_median.total_seconds()
        found.append(_judge("first_response_median", limit, m.first_response_time.median_s))
    if targets.csat is not None:
        found.append(_judge("csat", targets.csat, m.csat.mean))
    if targets.qa_score is not None:
        found.append(_judge("qa_score", targets.qa_score, qa_score))
    if targets.sla_adherence is not None:
        found.append(_judge("sla_adherence", targets.sla_adherence, m.sla_adherence, (met, decided)))
    if targets.repeat_contact_rate is not None:
        found.append(_judge("repeat_contact_rate", targets.repeat_contact_rate, o.repeat_rate, (o.repeats, o.contacts)))
    return tuple(found)
