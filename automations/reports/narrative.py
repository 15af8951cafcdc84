"""The report: what is working and what is not, as Markdown (Slack and terminal), HTML and JSON.

It compares the period with the one of the same length before it: biggest movers, drivers with rising volume or
falling deflection, SLA misses by tier, and knowledge-base gaps (hand-offs because no article answered).
"""

from __future__ import annotations

import asyncio
import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automations.reports.metrics import DEFAULT_COSTS, CostModel, Metrics, Slice, TierSla, compute_metrics
from automations.reports.periods import Period
from automations.reports.ports import ReportSource
from automations.reports.trends import DriverTrend, compare

__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_markdown",
    "signed_change",
]

RISING = 0.25  # +25 % contacts or more
FALLING = -0.05  # deflection down 5 points or more
MIN_CONTACTS = 10  # ignore drivers too small to say anything about


@dataclass(frozen=True, slots=True)
class Report:
    """Metrics of a period and of the one before, with the findings the narrative is built from."""

    current: Metrics
    previous: Metrics
    movers: tuple[DriverTrend, ...]
    rising_volume: tuple[DriverTrend, ...]
    falling_deflection: tuple[DriverTrend, ...]
    working: tuple[DriverTrend, ...]
    sla_misses: tuple[TierSla, ...]
    kb_gaps: tuple[Slice, ...]

    @property
    def period(self) -> Period:
        """The reported period."""
        return self.current.period

    def headlines(self) -> list[str]:
        """One-line findings, most important first."""
        return _headlines(self)

    def to_json(self) -> dict[str, Any]:
        """``autopilot report --format json``: the period's metrics plus comparison and findings."""
        doc = self.current.to_json()
        trends = {t.key: t for t in compare(self.current, self.previous)}
        for driver in doc["drivers"]:
            trend = trends.get(driver["key"])
            driver["previous_contacts"] = trend.previous_contacts if trend else 0
            driver["volume_change"] = trend.volume_change if trend else None
            driver["previous_deflection_rate"] = trend.previous_deflection_rate if trend else None
        prev = self.previous
        doc["previous"] = {
            "period": {"start": prev.period.start.isoformat(), "end": prev.period.end.isoformat()},
            "contacts": prev.contacts, "deflection_rate": prev.deflection_rate,
            "automation_rate": prev.automation_rate, "csat": prev.csat.mean, "sla_adherence": prev.sla_adherence,
        }  # fmt: skip
        doc["movers"] = [t.to_json() for t in self.movers]
        doc["rising_volume"] = [t.to_json() for t in self.rising_volume]
        doc["falling_deflection"] = [t.to_json() for t in self.falling_deflection]
        doc["working"] = [t.to_json() for t in self.working]
        doc["sla_misses"] = [t.to_json() for t in self.sla_misses]
        doc["kb_gaps"] = [{"driver": s.key, "group": s.group, "handoffs": s.kb_gap_handoffs} for s in self.kb_gaps]
        doc["headlines"] = self.headlines()
        return doc


def build(current: Metrics, previous: Metrics, *, top: int = 5) -> Report:
    """Derive the findings from two periods' metrics (pure)."""
    trends = compare(current, previous)
    big = [t for t in trends if max(t.contacts, t.previous_contacts) >= MIN_CONTACTS]
    rising = [t for t in big if t.previous_contacts and (t.volume_change or 0) >= RISING]
    rising.sort(key=lambda t: -(t.volume_change or 0))
    falling = [t for t in big if t.settled >= MIN_CONTACTS and (t.deflection_change or 0) <= FALLING]
    falling.sort(key=lambda t: t.deflection_change or 0)
    working = [t for t in big if t.settled >= MIN_CONTACTS and t.automation_rate is not None]
    working.sort(key=lambda t: -(t.automation_rate or 0) * t.contacts)
    misses = sorted(
        (s for s in current.sla if s.first_response_missed + s.resolution_missed),
        key=lambda s: -(s.first_response_missed + s.resolution_missed),
    )
    gaps = sorted((s for s in current.drivers if s.kb_gap_handoffs), key=lambda s: -s.kb_gap_handoffs)
    return Report(
        current, previous, tuple(trends[:top]), tuple(rising[:top]), tuple(falling[:top]), tuple(working[:top]),
        tuple(misses), tuple(gaps[:top]),
    )  # fmt: skip


async def build_report(
    source: ReportSource, period: Period, *, now: datetime, costs: CostModel = DEFAULT_COSTS, top: int = 5
) -> Report:
    """Compute the period and the one before it from ``source`` (refreshed once), and derive the findings."""
    await source.refresh()
    current, previous = await asyncio.gather(
        compute_metrics(source, period, now=now, costs=costs, refresh=False),
        compute_metrics(source, period.previous(), now=now, costs=costs, refresh=False),
    )
    return build(current, previous, top=top)


def pct(value: float | None, digits: int = 1) -> str:
    """``0.4567`` -> ``45.7%``; ``None`` -> ``n/a``."""
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def signed_change(value: float | None, *, points: bool = False) -> str:
    """A change as ``+12%`` (or ``+1.5 pts`` with ``points``); ``new`` when there was nothing before."""
    if value is None:
        return "new"
    return f"{100 * value:+.1f} pts" if points else f"{100 * value:+.0f}%"


def duration(seconds: float | None) -> str:
    """Seconds as ``42s``, ``17m``, ``3.5h`` or ``2.1d``."""
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h" if seconds < 172800 else f"{seconds / 86400:.1f}d"


def _headlines(r: Report) -> list[str]:
    m, p = r.current, r.previous
    change = f" ({signed_change((m.contacts - p.contacts) / p.contacts)} vs previous)" if p.contacts else ""
    lines = [
        f"{m.contacts:,} contacts{change}; the bot answered {pct(m.involvement_rate)} and resolved "
        f"{pct(m.automation_rate)} on its own (deflection {pct(m.deflection_rate)}"
        + (f", {signed_change(_diff(m.deflection_rate, p.deflection_rate), points=True)}" if p.contacts else "")
        + ").",
        f"CSAT {m.csat.mean:.2f}/5 from {m.csat.responses:,} responses." if m.csat.mean else "No CSAT responses.",
        f"SLA adherence {pct(m.sla_adherence)}; median first response {duration(m.first_response_time.median_s)}, "
        f"median human resolution {duration(m.resolution_time.median_s)}.",
    ]
    if m.cost.per_resolution is not None:
        lines.append(f"Cost per resolution {m.cost.per_resolution:.2f} ({m.cost.total:,.0f} in total).")
    return lines


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _trend_line(t: DriverTrend) -> str:
    return (
        f"*{t.key}* ({t.group}): {t.contacts:,} contacts ({signed_change(t.volume_change)}), "
        f"deflection {pct(t.deflection_rate)} ({signed_change(t.deflection_change, points=True)})"
    )


def _sections(r: Report) -> list[tuple[str, list[str]]]:
    return [
        ("Biggest movers", [_trend_line(t) for t in r.movers]),
        ("What's working", [f"*{t.key}*: automation {pct(t.automation_rate)} of {t.contacts:,}" for t in r.working]),
        ("Rising volume", [_trend_line(t) for t in r.rising_volume]),
        ("Falling deflection", [_trend_line(t) for t in r.falling_deflection]),
        (
            "SLA misses by tier",
            [
                f"*{s.tier}*: {s.first_response_missed} first responses and {s.resolution_missed} resolutions missed "
                f"of {s.handoffs:,} hand-offs (adherence {pct(s.adherence)})"
                for s in r.sla_misses
            ],
        ),
        (
            "Knowledge-base gaps",
            [f"*{s.key}*: {s.kb_gap_handoffs:,} hand-offs with no good article" for s in r.kb_gaps],
        ),
    ]


def render_markdown(report: Report) -> str:
    """The report as Markdown (Slack mrkdwn-compatible bullets and bold)."""
    out = [f"# Support report: {report.period.describe()}", ""]
    out += [f"- {line}" for line in report.headlines()]
    for title, lines in _sections(report):
        out += ["", f"## {title}", *([f"- {line}" for line in lines] or ["- nothing to report"])]
    return "\n".join(out) + "\n"


def render_html(report: Report, images: Sequence[tuple[str, bytes]] = ()) -> str:
    """The report as a self-contained HTML page; ``images`` are ``(caption, png)`` pairs embedded inline."""
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Support report {esc(report.period.label)}</title></head><body>",
        f"<h1>Support report: {esc(report.period.describe())}</h1><ul>",
        *[f"<li>{esc(line)}</li>" for line in report.headlines()],
        "</ul>",
    ]
    for caption, png in images:
        data = base64.b64encode(png).decode()
        parts.append(f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,{data}'>")
        parts.append(f"<figcaption>{esc(caption)}</figcaption></figure>")
    for title, lines in _sections(report):
        items = [f"<li>{esc(line.replace('*', ''))}</li>" for line in lines] or ["<li>nothing to report</li>"]
        parts += [f"<h2>{esc(title)}</h2><ul>", *items, "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts)
