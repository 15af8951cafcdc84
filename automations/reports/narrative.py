"""The report: what is working and what is not, built from a period and the one of the same length before it.

Changes are stated only when they are statistically significant and material (:mod:`automations.reports.findings`),
ranked by their conservative impact; when nothing moved the report says so. Rendering is in
:mod:`automations.reports.markdown` and :mod:`automations.reports.html`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from automations.deadlines import RegulatoryClocks
from automations.qa.teamview import TeamView
from automations.reports.benchmarks import BenchmarkFile
from automations.reports.clocks import regulatory_deadlines
from automations.reports.daily import DayPoint, daily_series
from automations.reports.extras import ReportExtras, report_extras
from automations.reports.findings import Finding, find_changes
from automations.reports.metrics import DEFAULT_COSTS, CostModel, Metrics, Slice, TierSla, compute_metrics
from automations.reports.okrs import OkrFile
from automations.reports.periods import Period
from automations.reports.ports import ReportSource
from automations.reports.trends import DriverTrend, compare
from automations.reports.wording import MIN_BASE, duration, pct, rate_text, signed_change

__all__ = [
    "FALLING",
    "RISING",
    "Report",
    "build",
    "build_report",
    "duration",
    "pct",
    "signed_change",
]

RISING = 0.25  # +25 % contacts or more (and significant)
FALLING = -0.05  # deflection down 5 points or more (and significant)


@dataclass(frozen=True, slots=True)
class Report:
    """Metrics of a period and of the one before, with the tested findings the narrative is built from."""

    current: Metrics
    previous: Metrics
    findings: tuple[Finding, ...]
    trends: tuple[DriverTrend, ...]
    working: tuple[DriverTrend, ...]
    sla_misses: tuple[TierSla, ...]
    kb_gaps: tuple[Slice, ...]
    top: int = 5
    daily: tuple[DayPoint, ...] = ()
    extras: ReportExtras = field(default_factory=ReportExtras)

    @property
    def period(self) -> Period:
        """The reported period."""
        return self.current.period

    @property
    def full_days(self) -> tuple[DayPoint, ...]:
        """The days of :attr:`daily` wholly inside the period (what the trend charts plot)."""
        return tuple(d for d in self.daily if d.hours >= 23)

    @property
    def comparable(self) -> bool:
        """Whether the previous period holds enough contacts to compare with at all."""
        return self.previous.contacts >= MIN_BASE

    def _drivers(self, metric: str, status: str = "significant") -> list[Finding]:
        if not self.comparable:
            return []
        return [f for f in self.findings if f.metric == metric and f.scope != "all" and f.status == status]

    @property
    def changes(self) -> tuple[Finding, ...]:
        """Every significant, material change, largest conservative impact first."""
        return tuple(f for f in self.findings if f.significant) if self.comparable else ()

    @property
    def movers(self) -> tuple[Finding, ...]:
        """Drivers whose volume changed significantly, largest impact first."""
        return tuple(self._drivers("contacts")[: self.top])

    @property
    def rising_volume(self) -> tuple[Finding, ...]:
        """Drivers whose volume rose significantly by :data:`RISING` or more."""
        return tuple([f for f in self._drivers("contacts") if (f.change or 0) >= RISING][: self.top])

    @property
    def falling_deflection(self) -> tuple[Finding, ...]:
        """Drivers whose deflection fell significantly by :data:`FALLING` or more."""
        return tuple([f for f in self._drivers("deflection") if (f.change or 0) <= FALLING][: self.top])

    @property
    def new_drivers(self) -> tuple[Finding, ...]:
        """Drivers with at least ``MIN_BASE`` contacts now and fewer before (no percentage is stated for them)."""
        found = self._drivers("contacts", "new")
        return tuple(sorted(found, key=lambda f: -(f.current or 0))[: self.top])

    @property
    def repeat_drivers(self) -> tuple[Slice, ...]:
        """Drivers with the most repeat contacts (at least ``MIN_BASE`` contacts), most repeats first."""
        found = [s for s in self.current.drivers if s.repeats and s.contacts >= MIN_BASE]
        return tuple(sorted(found, key=lambda s: (-s.repeats, s.key))[: self.top])

    def finding(self, metric: str, scope: str = "all") -> Finding | None:
        """The finding of ``metric`` for ``scope``, if it was compared."""
        return next((f for f in self.findings if f.metric == metric and f.scope == scope), None)

    def headlines(self) -> list[str]:
        """One-line findings, most important first."""
        return _headlines(self)

    def to_json(self) -> dict[str, Any]:
        """``autopilot report --format json``: the period's metrics plus comparison and findings."""
        doc = self.current.to_json()
        trends = {t.key: t for t in self.trends}
        tested = {f.scope: f for f in self.findings if f.metric == "contacts"}
        for driver in doc["drivers"]:
            trend, f = trends.get(driver["key"]), tested.get(driver["key"])
            driver["previous_contacts"] = trend.previous_contacts if trend else 0
            driver["volume_change"] = f.change if f and f.status not in ("new", "too_few") else None
            driver["volume_status"] = f.status if f else "too_few"
            driver["previous_deflection_rate"] = trend.previous_deflection_rate if trend else None
        prev = self.previous
        doc["previous"] = {
            "period": {"start": prev.period.start.isoformat(), "end": prev.period.end.isoformat()},
            "contacts": prev.contacts, "deflection_rate": prev.deflection_rate,
            "automation_rate": prev.automation_rate, "csat": prev.csat.mean, "sla_adherence": prev.sla_adherence,
        }  # fmt: skip
        doc["comparable"] = self.comparable
        doc["findings"] = [f.to_json() for f in self.findings if f.status != "too_few"]
        doc["changes"] = [f.to_json() for f in self.changes]
        doc["movers"] = [f.to_json() for f in self.movers]
        doc["rising_volume"] = [f.to_json() for f in self.rising_volume]
        doc["falling_deflection"] = [f.to_json() for f in self.falling_deflection]
        doc["new_drivers"] = [f.to_json() for f in self.new_drivers]
        doc["working"] = [t.to_json() for t in self.working]
        doc["sla_misses"] = [t.to_json() for t in self.sla_misses]
        doc["repeat_drivers"] = [
            {"driver": s.key, "group": s.group, "repeat_contacts": s.repeats, "contacts": s.contacts,
             "repeat_contact_rate": s.repeat_rate}
            for s in self.repeat_drivers
        ]  # fmt: skip
        doc["kb_gaps"] = [{"driver": s.key, "group": s.group, "handoffs": s.kb_gap_handoffs} for s in self.kb_gaps]
        doc["daily"] = [d.to_json() for d in self.daily]
        doc.update(self.extras.to_json())
        doc["headlines"] = self.headlines()
        return doc


def build(
    current: Metrics,
    previous: Metrics,
    *,
    top: int = 5,
    daily: tuple[DayPoint, ...] = (),
    extras: ReportExtras | None = None,
) -> Report:
    """Derive the findings from two periods' metrics (pure); ``daily`` is the period's trend series, ``extras`` its
    OKR progress and benchmarks."""
    trends = compare(current, previous)
    working = [t for t in trends if t.settled >= MIN_BASE and t.automation_rate is not None]
    working.sort(key=lambda t: -(t.automation_rate or 0) * t.contacts)
    misses = sorted(
        (s for s in current.sla if s.first_response_missed + s.resolution_missed),
        key=lambda s: -(s.first_response_missed + s.resolution_missed),
    )
    gaps = sorted((s for s in current.drivers if s.kb_gap_handoffs), key=lambda s: -s.kb_gap_handoffs)
    return Report(
        current, previous, find_changes(current, previous), tuple(trends), tuple(working[:top]), tuple(misses),
        tuple(gaps[:top]), top, daily, extras or ReportExtras(),
    )  # fmt: skip


async def build_report(
    source: ReportSource,
    period: Period,
    *,
    now: datetime,
    costs: CostModel = DEFAULT_COSTS,
    top: int = 5,
    tz: str = "UTC",
    resolve_after: timedelta = timedelta(hours=24),
    okrs: OkrFile | None = None,
    benchmarks: BenchmarkFile | None = None,
    clocks: RegulatoryClocks | None = None,
    team: TeamView | None = None,
) -> Report:
    """Compute the period, the one before it and the period's daily series from ``source`` (refreshed once), and
    derive the findings; days are those of the reporting time zone ``tz``. With ``okrs``, the report shows the
    period against the targets of the half it ends in; with ``benchmarks``, published figures beside ours; with
    ``clocks``, the regulatory deadlines met, missed and open by rule; with ``team``, the agents' performance and the
    team's QA (``agents`` and ``qa``)."""
    await source.refresh()
    current, previous, hours = await asyncio.gather(
        compute_metrics(source, period, now=now, costs=costs, resolve_after=resolve_after, refresh=False),
        compute_metrics(source, period.previous(), now=now, costs=costs, resolve_after=resolve_after, refresh=False),
        source.hourly_figures(period, now=now, resolve_after=resolve_after),
    )
    daily = daily_series(hours, period, tz, settled_before=now - resolve_after)
    extras = report_extras(current, tz=tz, okrs=okrs, benchmarks=benchmarks)
    if clocks is not None:
        regulatory = await regulatory_deadlines(clocks, period.start, period.end, now=now)
        extras = replace(extras, regulatory=regulatory)
    if team is not None:
        extras = replace(extras, team=await team.snapshot(period.start, period.end))
    return build(current, previous, top=top, daily=daily, extras=extras)


def _versus(r: Report, metric: str, before: str) -> str:
    """How ``metric`` compares with its value ``before``, as a clause (empty when it cannot be compared)."""
    f = r.finding(metric)
    if f is None or not r.comparable or f.status in ("too_few", "new"):
        return ""
    if f.significant:
        return f"{f.signed()} vs {before}, {f.interval_text()}"
    if f.status == "small":
        return f"{signed_change(f.change, points=not f.is_count)} vs {before}: significant but small"
    return f"no significant change from {before}"


def _headlines(r: Report) -> list[str]:
    m, p = r.current, r.previous
    if not r.comparable:
        volume = f" (the previous {m.period.label} had {p.contacts:,}: too few to compare)"
    else:
        volume = f" ({_versus(r, 'contacts', f'{p.contacts:,}')})"
    o = m.overall
    deflection = rate_text(o.deflected, o.settled)
    versus = _versus(r, "deflection", pct(p.deflection_rate))
    lines = [
        f"{m.contacts:,} contacts{volume}; the bot answered {pct(m.involvement_rate)} and resolved "
        f"{pct(m.automation_rate)} on its own (deflection {deflection}{', ' + versus if versus else ''}).",
    ]
    if m.csat.mean is not None:
        satisfied = round((m.csat.satisfied_share or 0) * m.csat.responses)
        versus = _versus(r, "csat_satisfied", pct(p.csat.satisfied_share))
        lines.append(
            f"CSAT {m.csat.mean:.2f}/5 from {m.csat.responses:,} responses, "
            f"{rate_text(satisfied, m.csat.responses)} satisfied{' (' + versus + ')' if versus else ''}."
        )
    else:
        lines.append("No CSAT responses.")
    met = sum(t.first_response_met + t.resolution_met for t in m.sla)
    decided = met + sum(t.first_response_missed + t.resolution_missed for t in m.sla)
    versus = _versus(r, "sla_adherence", pct(p.sla_adherence))
    lines.append(
        f"SLA adherence {rate_text(met, decided)}{' (' + versus + ')' if versus else ''}; median first response "
        f"{duration(m.first_response_time.median_s)}, median human resolution {duration(m.resolution_time.median_s)}."
    )
    versus = _versus(r, "repeat_rate", pct(p.repeat_rate))
    lines.append(
        f"Repeat contacts {rate_text(o.repeats, o.contacts)} (same customer, same driver, within 7 days)"
        f"{' (' + versus + ')' if versus else ''}."
    )
    if m.cost.per_resolution is not None:
        lines.append(f"Cost per resolution {m.cost.per_resolution:.2f} ({m.cost.total:,.0f} in total).")
    return lines
