"""Regulatory clocks in the reports: their alerts (warnings and breaches), the ones at risk, the report's section,
and the regulatory deadline that replaces a hand-off's resolution SLA when it is tighter.

Alert keys are ``clock:<contact id>:<rule>:<pct>`` for a warning and ``clock:<contact id>:<rule>:breach`` for a
breach. The SLA alerts (:mod:`automations.reports.sla`) use the same keys for a resolution deadline that a clock made
tighter, so the sink's idempotency on keys sends one alert whichever job sees the moment first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from automations.alerts import Alert, AlertSink
from automations.deadlines import ClockCount, ClockState, RegulatoryClock, RegulatoryClocks
from automations.handoff import due_text
from automations.reports.values import SlaDeadline
from automations.reports.wording import duration, rate_text

__all__ = [
    "DEFAULT_WARN_AT",
    "RegulatoryDeadlines",
    "at_risk_first",
    "breach_key",
    "clock_alerts",
    "regulatory_deadlines",
    "tighten",
    "warning_key",
]

DEFAULT_WARN_AT = (0.8,)
WarnAt = Mapping[str, Sequence[float]]
"""Rule id → the shares of its clock at which a warning is due (the obligations file's ``warn_at``)."""


def breach_key(contact_id: str, rule: str) -> str:
    """The alert key of a clock's breach."""
    return f"clock:{contact_id}:{rule}:breach"


def warning_key(contact_id: str, rule: str, share: float) -> str:
    """The alert key of a clock's warning at ``share`` of its time (``0.8`` → ``...:80``)."""
    return f"clock:{contact_id}:{rule}:{round(share * 100)}"


def _what(clock: RegulatoryClock) -> str:
    internal = ", internal: never tell the customer" if clock.internal else ""
    return f"*{clock.rule}* for *{clock.contact_id}* ({clock.category}, owned by {clock.tier or 'n/a'}{internal})"


def _breach(clock: RegulatoryClock, now: datetime) -> Alert:
    return Alert(
        key=breach_key(clock.contact_id, clock.rule), kind="sla_breach", tier=clock.tier or None,
        thread_of=clock.contact_id, title=f"Regulatory deadline breached: {clock.rule} for {clock.contact_id}",
        text=f"{_what(clock)} was due {due_text(clock.due)} and is {duration(-clock.remaining_s(now))} overdue.",
    )  # fmt: skip


def _warning(clock: RegulatoryClock, share: float, now: datetime) -> Alert:
    return Alert(
        key=warning_key(clock.contact_id, clock.rule, share), kind="sla_warning", tier=clock.tier or None,
        thread_of=clock.contact_id, title=f"Regulatory deadline at {share:.0%}: {clock.rule} for {clock.contact_id}",
        text=f"{_what(clock)} is due {due_text(clock.due)}, in {duration(clock.remaining_s(now))}.",
    )  # fmt: skip


async def clock_alerts(
    clocks: RegulatoryClocks,
    sink: AlertSink,
    now: datetime,
    *,
    warn_at: WarnAt | None = None,
    grace: timedelta = timedelta(minutes=15),
) -> list[Alert]:
    """The breach detection job: mark every open clock past its due time as breached (audited once) and alert on
    it, and send each running clock's warnings (the rule's ``warn_at`` shares) that fell due within ``grace``."""
    sent = [_breach(clock, now) for clock in await clocks.breached(now)]
    for clock in await clocks.open(now):
        if clock.state is not ClockState.OPEN:
            continue
        for share in (warn_at or {}).get(clock.rule, DEFAULT_WARN_AT):
            mark = clock.started_at + (clock.due - clock.started_at) * share
            if mark <= now <= mark + grace:
                sent.append(_warning(clock, share, now))
    for alert in sent:
        await sink.send(alert)
    return sent


def at_risk_first(
    clocks: Iterable[RegulatoryClock], now: datetime, warn_at: WarnAt | None = None
) -> list[tuple[RegulatoryClock, bool]]:
    """Running clocks with whether each is at risk (overdue, or past its last warning), at-risk ones first, each
    group by due time."""
    rows = [(c, c.at_risk(now, (warn_at or {}).get(c.rule, DEFAULT_WARN_AT))) for c in clocks if c.running]
    return sorted(rows, key=lambda pair: (not pair[1], pair[0].due, pair[0].contact_id, pair[0].rule))


def tighten(deadlines: Sequence[SlaDeadline], clocks: Iterable[RegulatoryClock]) -> list[SlaDeadline]:
    """Each hand-off's resolution deadline replaced by its earliest running regulatory clock when that is tighter."""
    earliest: dict[str, RegulatoryClock] = {}
    for clock in clocks:
        known = earliest.get(clock.contact_id)
        if clock.running and (known is None or clock.due < known.due):
            earliest[clock.contact_id] = clock
    out = []
    for d in deadlines:
        tighter = earliest.get(d.contact_id)
        if d.kind == "resolution" and tighter is not None and tighter.due < d.due:
            d = replace(d, due=tighter.due.astimezone(UTC), rule=tighter.rule)
        out.append(d)
    return out


@dataclass(frozen=True, slots=True)
class RegulatoryDeadlines:
    """The report's "Regulatory deadlines" section: the clocks started in the period, by rule, as they stand now."""

    counts: tuple[ClockCount, ...] = ()

    def lines(self) -> list[str]:
        """One line per rule (Markdown with ``*bold*`` names)."""
        if not self.counts:
            return ["No regulatory clock started in this period."]
        out = []
        for c in self.counts:
            settled = c.met + c.missed
            line = f"*{c.rule}*: {c.met:,} met, {c.missed:,} missed, {c.open:,} open"
            if settled:
                line += f" (met on time {rate_text(c.met, settled)})"
            if c.stopped:
                line += f"; {c.stopped:,} stopped by a privacy export or erasure"
            out.append(line)
        return out

    def to_json(self) -> list[dict[str, Any]]:
        """``regulatory_deadlines`` in the report's JSON."""
        return [
            {"rule": c.rule, "met": c.met, "missed": c.missed, "open": c.open, "stopped": c.stopped,
             "total": c.total}
            for c in self.counts
        ]  # fmt: skip


async def regulatory_deadlines(
    clocks: RegulatoryClocks, start: datetime, end: datetime, *, now: datetime
) -> RegulatoryDeadlines:
    """The section for the clocks started in ``[start, end)``."""
    return RegulatoryDeadlines(tuple(await clocks.counts(start, end, now=now)))
