"""The report as Markdown (terminal, Slack mrkdwn after :func:`bot.slack.dashboards.to_mrkdwn`, digests).

:func:`sections` is the narrative's body, shared with the HTML renderer: titled lists of one-line findings.
"""

from __future__ import annotations

from collections.abc import Callable

from automations.reports.daily import DayPoint, sparkline
from automations.reports.findings import METRIC_NAMES
from automations.reports.narrative import Report
from automations.reports.trends import DriverTrend
from automations.reports.wording import duration, pct, rate_text

__all__ = ["TRENDS", "nothing_moved", "render_markdown", "sections", "trend_lines"]


def nothing_moved(report: Report) -> str:
    """The plain statement that no compared metric changed significantly (or why nothing could be compared)."""
    if not report.comparable:
        return (
            f"No comparison: the previous {report.period.label} had {report.previous.contacts:,} contacts, too few "
            "to compare with."
        )
    tested = [f for f in report.findings if f.status not in ("too_few", "new")]
    metrics = sorted({METRIC_NAMES.get(f.metric, f.metric) for f in tested})
    return (
        f"Nothing moved: none of the {len(tested):,} comparisons with the previous period ({', '.join(metrics)}; "
        "overall and by driver) changed significantly (95 % confidence, corrected for the number of comparisons)."
    )


def _changes(report: Report) -> list[str]:
    lines = [f.describe() for f in report.changes[: 2 * report.top]]
    if len(report.changes) > 2 * report.top:
        lines.append(f"… and {len(report.changes) - 2 * report.top} smaller significant changes (see the JSON).")
    if not lines:
        lines.append(nothing_moved(report))
    if report.new_drivers:
        new = ", ".join(
            f"*{f.scope}* ({f.current or 0:,.0f} contacts, {f.previous or 0:,.0f} before)" for f in report.new_drivers
        )
        lines.append(f"New drivers (too few contacts before for a percentage): {new}")
    return lines


TRENDS: tuple[tuple[str, Callable[[DayPoint], float | None], Callable[[float | None], str]], ...] = (
    ("Contacts", lambda d: float(d.contacts), lambda v: "n/a" if v is None else f"{v:,.0f}"),
    ("Deflection", lambda d: d.settled_deflection, pct),
    ("Automation", lambda d: d.settled_automation, pct),
    ("CSAT", lambda d: d.csat, lambda v: "n/a" if v is None else f"{v:.2f}"),
    ("SLA adherence", lambda d: d.sla_adherence, pct),
    ("First response (mean)", lambda d: d.first_response_mean_s, duration),
    ("Repeat contacts", lambda d: d.repeat_rate, pct),
)
"""The daily series the report shows: (title, value of a day, formatter)."""


def trend_lines(report: Report) -> list[str]:
    """One sparkline per daily series over the period's full days (empty under two full days)."""
    days = report.full_days
    if len(days) < 2:
        return []
    lines = [f"Over {len(days)} full days, {days[0].day:%d %b} to {days[-1].day:%d %b}, low to high:"]
    if any(d.provisional for d in days):
        lines[0] += " (· = answers still inside the resolve window, deflection not final)"
    for title, value, fmt in TRENDS:
        values = [value(d) for d in days]
        known = [v for v in values if v is not None]
        if not known:
            continue
        lines.append(
            f"{title}: `{sparkline(values)}` {fmt(known[0])} → {fmt(known[-1])} "
            f"(low {fmt(min(known))}, high {fmt(max(known))})"
        )
    return lines


def _working(t: DriverTrend) -> str:
    return f"*{t.key}*: automation {pct(t.automation_rate)} of {t.contacts:,} contacts ({t.settled:,} settled answers)"


def sections(report: Report) -> list[tuple[str, list[str]]]:
    """The narrative's sections as ``(title, lines)``; lines use ``*bold*`` for names (mrkdwn and Markdown)."""
    none = ["no significant change"] if report.comparable else ["no comparison with the previous period"]
    return [
        ("What changed", _changes(report)),
        ("Trends", trend_lines(report) or ["fewer than two full days: no daily trend"]),
        ("Biggest movers", [f.describe() for f in report.movers] or none),
        ("What's working", [_working(t) for t in report.working]),
        ("Rising volume", [f.describe() for f in report.rising_volume] or none),
        ("Falling deflection", [f.describe() for f in report.falling_deflection] or none),
        (
            "SLA misses by tier",
            [
                f"*{s.tier}*: {s.first_response_missed} first responses and {s.resolution_missed} resolutions missed "
                f"of {s.handoffs:,} hand-offs (adherence {pct(s.adherence)})"
                for s in report.sla_misses
            ],
        ),
        (
            "Repeat contacts",
            [
                f"*{s.key}*: {s.repeats:,} repeats, {rate_text(s.repeats, s.contacts)} of its contacts"
                for s in report.repeat_drivers
            ],
        ),
        (
            "Knowledge-base gaps",
            [f"*{s.key}*: {s.kb_gap_handoffs:,} hand-offs with no good article" for s in report.kb_gaps],
        ),
        *report.extras.sections(),
    ]


def render_markdown(report: Report) -> str:
    """The report as Markdown (Slack mrkdwn-compatible bullets and bold)."""
    out = [f"# Support report: {report.period.describe()}", ""]
    out += [f"- {line}" for line in report.headlines()]
    for title, lines in sections(report):
        out += ["", f"## {title}", *([f"- {line}" for line in lines] or ["- nothing to report"])]
    return "\n".join(out) + "\n"
