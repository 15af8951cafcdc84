"""The managers' figures as Block Kit: ``/cx`` replies and the App Home dashboard.

Pure formatting over the reports engine's results (:mod:`automations.reports`); every function returns blocks
that :func:`bot.slack.blocks.check_blocks` validates against Slack's limits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock, SectionBlock

from automations.deadlines import RegulatoryClock
from automations.reports.forecast import ShiftPlan
from automations.reports.markdown import render_markdown
from automations.reports.metrics import Metrics
from automations.reports.narrative import Report
from automations.reports.okrs import HalfTargets, Progress
from automations.reports.periods import Period
from automations.reports.staffing import StaffingResult
from automations.reports.trends import DriverTrend
from automations.reports.values import SlaDeadline
from automations.reports.wording import MIN_BASE, duration, pct, rate_text, volume_text
from bot.slack.blocks import SECTION_TEXT, context, fields, header, section, slack_date

__all__ = [
    "HELP",
    "clock_blocks",
    "drivers_blocks",
    "help_blocks",
    "metrics_blocks",
    "okr_blocks",
    "report_blocks",
    "sla_blocks",
    "staffing_blocks",
    "to_mrkdwn",
]

HELP = (
    ("metrics [today|7d|30d|qtd]", "contacts, bot involvement, deflection and automation, escalations by tier, "
     "first-response and resolution times, SLA adherence, CSAT, cost per resolution"),
    ("drivers [period]", "top contact drivers, trend against the previous period, deflection per driver"),
    ("sla", "open hand-offs nearest to breaching their SLA (or a tighter regulatory deadline)"),
    ("clocks", "open regulatory clocks (Reg E, CFPB, privacy, legal process, SAR) by due date, the ones at risk first"),
    ("report [period]", "the narrative report, with its charts (overview, daily trends) sent to you as PNGs"),
    ("staffing", "Erlang C agents for the next hour and the week's shift plan from the forecast"),
    ("okr", "the half-year so far against its OKR targets"),
    ("agent @user [period]", "a 1:1 preparation pack: trends, strengths, gaps, three conversations to review"),
    ("team [period]", "the team's QA and productivity at a glance: medians, spreads, themes to coach (no ranking)"),
    ("help", "this list"),
)  # fmt: skip


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def help_blocks() -> list[Block]:
    """What ``/cx`` can do."""
    lines = "\n".join(f"• `/cx {usage}`: {what}" for usage, what in HELP)
    return [header("/cx: support metrics for managers"), section(lines), context("Periods: today, 7d, 30d, qtd …")]


def metrics_blocks(m: Metrics, *, title: str | None = None) -> list[Block]:
    """The headline figures of a period."""
    o = m.overall
    escalations = ", ".join(f"{tier} {n:,}" for tier, n in m.escalations_by_tier) or "none"
    facts = [
        ("Contacts", f"{o.contacts:,}"),
        ("Bot involvement", f"{pct(m.involvement_rate)} ({o.bot_answered:,} answered)"),
        ("Deflection rate", f"{pct(m.deflection_rate)} ({o.deflected:,} of {o.settled:,} settled)"),
        ("Automation rate", pct(m.automation_rate)),
        ("Escalations by tier", escalations),
        ("SLA adherence", pct(m.sla_adherence)),
        ("First response (median)", duration(m.first_response_time.median_s)),
        ("Resolution (median)", duration(m.resolution_time.median_s)),
        ("CSAT", "n/a" if m.csat.mean is None else f"{m.csat.mean:.2f} / 5 ({m.csat.responses:,} responses)"),
        ("Cost per resolution", _money(m.cost.per_resolution)),
    ]
    return [
        header(title or f"Support metrics: {m.period.label}"),
        SectionBlock(fields=fields(facts)),
        context(f"{m.period.describe()} · {o.pending:,} bot answers still pending (inside the resolve window)"),
    ]


def drivers_blocks(trends: Sequence[DriverTrend], *, label: str) -> list[Block]:
    """Top drivers with their trend against the previous period and their deflection."""
    if not trends:
        return [header(f"Contact drivers: {label}"), section("No contacts in this period or the one before.")]
    lines = [
        f"*{t.key}* ({t.group}): {t.contacts:,} contacts "
        f"({volume_text(t.contacts, t.previous_contacts)} vs {t.previous_contacts:,}), "
        f"deflection {rate_text(t.deflected, t.settled)}"
        + (f" (was {pct(t.previous_deflection_rate)})" if t.previous_settled >= MIN_BASE else "")
        for t in trends
    ]
    return [header(f"Contact drivers: {label}"), section("\n".join(f"• {line}" for line in lines)),
            context("Biggest movers first; rates on small samples carry their 95% interval.")]  # fmt: skip


def sla_blocks(rows: Sequence[SlaDeadline]) -> list[Block]:
    """Open hand-offs nearest to breach (breached ones first)."""
    if not rows:
        return [header("SLA: open hand-offs"), section("No open hand-off deadlines. :tada:")]
    lines = []
    for d in rows:
        what = "first response" if d.kind == "first_response" else "resolution"
        if d.rule is not None:
            what = f"regulatory deadline `{d.rule}`"
        left = d.remaining_s
        state = f"*breached {duration(-left)} ago*" if left <= 0 else f"{duration(left)} left"
        lines.append(
            f"• `{d.contact_id}` {d.category} → {d.tier}: {what} due {slack_date(d.due)}, {state} "
            f"({d.elapsed_fraction:.0%} of the window used)"
        )
    return [header("SLA: open hand-offs nearest to breach"), section("\n".join(lines))]


def clock_blocks(
    rows: Sequence[tuple[RegulatoryClock, bool]], now: datetime, *, available: bool = True, limit: int = 25
) -> list[Block]:
    """Open regulatory clocks with whether each is at risk (as :func:`~automations.reports.clocks.at_risk_first`
    orders them): at-risk ones first, each group by due date. Managers only: internal clocks are listed, marked."""
    title = "Regulatory clocks: open, at risk first"
    if not available:
        return [header(title), section("Regulatory clocks are not kept by this process.")]
    if not rows:
        return [header(title), section("No open regulatory clock. :tada:")]
    lines = []
    for clock, risky in rows[:limit]:
        left = clock.remaining_s(now)
        state = f"*overdue by {duration(-left)}*" if left <= 0 else f"{duration(left)} left"
        flag = ":rotating_light: " if left <= 0 else ":warning: " if risky else ""
        internal = " · internal, never tell the customer" if clock.internal else ""
        lines.append(
            f"• {flag}`{clock.rule}` · `{clock.contact_id}` ({clock.category} → {clock.tier or 'n/a'}{internal}): "
            f"due {slack_date(clock.due)}, {state}"
        )
    risky_n = sum(1 for _, risky in rows if risky)
    more = f" · {len(rows) - limit:,} more not shown" if len(rows) > limit else ""
    chunks = [section("\n".join(lines[i : i + 10])) for i in range(0, len(lines), 10)]
    return [
        header(title),
        *chunks,
        context(f"{len(rows):,} open, {risky_n:,} at risk (overdue, or past the rule's last warning){more}"),
    ]


def to_mrkdwn(markdown: str) -> str:
    """The reports' Markdown as Slack mrkdwn: headings bold, bullets as •."""
    out = []
    for line in markdown.splitlines():
        heading = re.match(r"^#+\s+(.*)$", line)
        if heading:
            out.append(f"*{heading.group(1)}*")
        elif line.startswith("- "):
            out.append("• " + line[2:])
        else:
            out.append(line)
    return "\n".join(out)


def report_blocks(report: Report) -> list[Block]:
    """The narrative report, split into sections that fit Slack's limits."""
    text = to_mrkdwn(render_markdown(report))
    chunks: list[str] = []
    for paragraph in text.split("\n\n"):
        if chunks and len(chunks[-1]) + len(paragraph) + 2 <= SECTION_TEXT:
            chunks[-1] += "\n\n" + paragraph
        else:
            chunks.append(paragraph)
    blocks: list[Block] = [section(chunk) for chunk in chunks[:40]]
    return [*blocks, DividerBlock(), context("The charts (overview and daily trends) are in your DMs with me.")]


def staffing_blocks(
    interval: StaffingResult, *, hour: datetime, plans: Sequence[ShiftPlan], weeks_of_history: int
) -> list[Block]:
    """Erlang C for the next hour, and the week's shift plan."""
    facts = [
        ("Next hour", slack_date(hour)),
        ("Forecast hand-offs", f"{interval.volume_per_hour:.1f} / hour"),
        ("Agents to roster", f"{interval.agents} ({interval.base_agents} on the phones + {interval.shrinkage:.0%} "
                             "shrinkage)"),
        ("Service level", f"{interval.service_level_achieved:.0%} within {interval.answer_within_s:.0f}s "
                          f"(target {interval.target_service_level:.0%})"),
        ("Occupancy", pct(interval.occupancy)),
        ("Average speed of answer", duration(interval.asa_s)),
    ]  # fmt: skip
    days: dict[str, list[str]] = {}
    for plan in plans:
        days.setdefault(plan.day, []).append(f"{plan.shift} {plan.agents}")
    week = "\n".join(f"• *{day}*: " + ", ".join(shifts) for day, shifts in days.items()) or "no forecast"
    return [
        header("Staffing (Erlang C)"),
        SectionBlock(fields=fields(facts)),
        section(f"*Week plan (agents per shift)*\n{week}"),
        context(f"Forecast from {weeks_of_history} weeks of hand-offs, weighted to the most recent."),
    ]


def okr_blocks(
    half: str, targets: HalfTargets | None, progress: Sequence[Progress], period: Period | None
) -> list[Block]:
    """The half-year so far against its OKR targets."""
    if targets is None or period is None:
        return [header(f"OKRs: {half}"), section(f"No OKR targets are set for {half}.")]
    marks = {"met": ":white_check_mark:", "missed": ":x:", "no_data": ":grey_question:"}
    lines = [f"{marks.get(p.status, '')} {p.text()}" for p in progress]
    blocks: list[Block] = [header(f"OKRs: {half} so far")]
    if targets.objective:
        blocks.append(section(f"*Objective:* {targets.objective}"))
    blocks.append(section("\n".join(lines) or "No targets."))
    blocks.append(context(f"{period.describe()} · rates within their 95% interval of the target are marked as such"))
    return blocks
