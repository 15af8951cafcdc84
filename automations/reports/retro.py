"""The semi-annual retrospective (``autopilot report --retro H2-2026``): which OKR targets were hit or missed over
the half-year, and the drivers (or tiers) that did most to hit or miss each one.

A driver's *contribution* is how far it pulled the overall figure towards or away from the target, in the units
that make up the figure: for deflection, (its rate - the target) x its settled answers, i.e. resolutions above or
below what the target asks of it; for CSAT, (its mean - the target) x its responses; for repeat contacts, the
target's share of its contacts minus its repeats; for SLA adherence, (a tier's adherence - the target) x its
decided deadlines; for first response, (the target - a driver's mean first response) x its hand-offs responded to.
For a target that was hit the report names the largest positive contributions, for one missed the largest negative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from automations.reports.metrics import DEFAULT_COSTS, CostModel, Metrics, Slice, compute_metrics
from automations.reports.okrs import HalfTargets, Progress, half_period, okr_progress
from automations.reports.periods import Period
from automations.reports.ports import ReportSource
from automations.reports.values import TierSla
from automations.reports.wording import duration, pct

__all__ = ["Contribution", "Retro", "RetroItem", "build_retro", "contributions", "render_retro"]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One driver's (or tier's) pull on a metric, with the figures behind it."""

    name: str
    amount: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view."""
        return {"name": self.name, "contribution": self.amount, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class RetroItem:
    """A target's outcome and its biggest drivers."""

    progress: Progress
    drivers: tuple[Contribution, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view."""
        return {**self.progress.to_json(), "drivers": [d.to_json() for d in self.drivers]}


@dataclass(frozen=True, slots=True)
class Retro:
    """The retrospective of one half-year (``complete`` is false while the half is still running)."""

    half: str
    objective: str
    period: Period
    complete: bool
    metrics: Metrics
    items: tuple[RetroItem, ...]

    def to_json(self) -> dict[str, Any]:
        """``autopilot report --retro H2-2026 --format json``."""
        return {
            "half": self.half, "objective": self.objective, "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(), "complete": self.complete, "contacts": self.metrics.contacts,
            "hit": [i.progress.metric for i in self.items if i.progress.status == "met"],
            "missed": [i.progress.metric for i in self.items if i.progress.status == "missed"],
            "targets": [i.to_json() for i in self.items],
        }  # fmt: skip


def _slices(
    rows: Iterable[Slice], amount: Callable[[Slice], float | None], detail: Callable[[Slice], str]
) -> list[Contribution]:
    out = []
    for s in rows:
        value = amount(s)
        if value is not None:
            out.append(Contribution(s.key, value, detail(s)))
    return out


def _tiers(rows: Iterable[TierSla], target: float) -> list[Contribution]:
    out = []
    for t in rows:
        met = t.first_response_met + t.resolution_met
        decided = met + t.first_response_missed + t.resolution_missed
        if decided:
            out.append(Contribution(t.tier, (met / decided - target) * decided,
                                    f"adherence {pct(met / decided)} of {decided:,} deadlines"))  # fmt: skip
    return out


def contributions(m: Metrics, p: Progress) -> list[Contribution]:
    """Every driver's (tier's, for SLA adherence) contribution to ``p``'s metric against its target."""
    t = p.target
    if p.metric == "deflection_rate":
        return _slices(m.drivers, lambda s: None if s.deflection_rate is None else (s.deflection_rate - t) * s.settled,
                       lambda s: f"deflection {pct(s.deflection_rate)} of {s.settled:,} settled answers")  # fmt: skip
    if p.metric == "csat":
        return _slices(m.drivers, lambda s: None if s.csat is None else (s.csat - t) * s.csat_responses,
                       lambda s: f"CSAT {s.csat or 0:.2f} from {s.csat_responses:,} responses")  # fmt: skip
    if p.metric == "repeat_contact_rate":
        return _slices(m.drivers, lambda s: t * s.contacts - s.repeats if s.contacts else None,
                       lambda s: f"{s.repeats:,} repeats, {pct(s.repeat_rate)} of {s.contacts:,}")  # fmt: skip
    if p.metric == "sla_adherence":
        return _tiers(m.sla, t)
    if p.metric == "first_response_median":
        return _slices(
            m.drivers,
            lambda s: None if s.first_response_mean_s is None else (t - s.first_response_mean_s) * s.frt_count,
            lambda s: f"mean first response {duration(s.first_response_mean_s)} over {s.frt_count:,} hand-offs",
        )
    return []


async def build_retro(
    source: ReportSource,
    targets: HalfTargets,
    *,
    now: datetime,
    tz: str = "UTC",
    costs: CostModel = DEFAULT_COSTS,
    resolve_after: timedelta = timedelta(hours=24),
    top: int = 3,
    qa_score: float | None = None,
) -> Retro:
    """The retrospective of ``targets``' half-year, up to ``now`` if it is still running."""
    period = half_period(targets.half, tz, now=now)
    full = half_period(targets.half, tz)
    m = await compute_metrics(source, period, now=now, costs=costs, resolve_after=resolve_after)
    items = []
    for p in okr_progress(m, targets.targets, qa_score=qa_score):
        found = contributions(m, p)
        if p.status == "met":
            found = sorted((c for c in found if c.amount > 0), key=lambda c: -c.amount)
        else:
            found = sorted((c for c in found if c.amount < 0), key=lambda c: c.amount)
        items.append(RetroItem(p, tuple(found[:top])))
    return Retro(targets.half, targets.objective, period, period.end >= full.end, m, tuple(items))


def render_retro(retro: Retro) -> str:
    """The retrospective as Markdown."""
    state = "the whole half" if retro.complete else f"the half so far, to {retro.period.end:%Y-%m-%d %H:%M} UTC"
    out = [f"# Retrospective {retro.half}", "",
           f"{retro.period.start:%Y-%m-%d} to {retro.period.end:%Y-%m-%d} ({state}); {retro.metrics.contacts:,} "
           "contacts."]  # fmt: skip
    if retro.objective:
        out += ["", f"Objective: {retro.objective}"]
    hit = [i.progress.name for i in retro.items if i.progress.status == "met"]
    missed = [i.progress.name for i in retro.items if i.progress.status == "missed"]
    out += ["", f"- Hit: {', '.join(hit) or 'none'}", f"- Missed: {', '.join(missed) or 'none'}"]
    for item in retro.items:
        p = item.progress
        out += ["", f"## {p.name}: {'hit' if p.status == 'met' else p.status.replace('_', ' ')}", f"- {p.text()}"]
        if item.drivers:
            verb = "Carried it" if p.status == "met" else "Held it back"
            out += [f"- {verb}: *{c.name}*, {c.detail}" for c in item.drivers]
        elif p.status != "no_data":
            out.append("- No single driver stands out.")
    return "\n".join(out) + "\n"
