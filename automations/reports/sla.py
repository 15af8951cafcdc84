"""Open SLA deadlines of hand-offs: the nearest to breach (for ``/cx sla``) and the alerts at 80 % and at breach.

A hand-off has two deadlines: first response (open until the first ``first_response`` agent event) and resolution
(open until the first ``closed`` event). Given the regulatory clocks, a resolution deadline is replaced by the
contact's earliest running clock when that is due first (a Reg E determination due before the fraud tier's SLA, a
return date on legal process), and its alerts share that clock's keys (:mod:`automations.reports.clocks`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from automations.alerts import Alert, AlertSink
from automations.deadlines import RegulatoryClocks
from automations.reports.clocks import breach_key, tighten, warning_key
from automations.reports.ports import ReportSource
from automations.reports.values import SlaDeadline
from automations.reports.wording import duration

__all__ = ["WARN_AT", "SlaDeadline", "open_deadlines", "sla_alerts", "sla_nearest_breach"]

WARN_AT = 0.8
REGULATED_TIERS = ("legal", "compliance")


async def open_deadlines(
    source: ReportSource, now: datetime, *, breached_within: timedelta, clocks: RegulatoryClocks | None = None
) -> list[SlaDeadline]:
    """Deadlines still open at ``now``: not yet due, or breached less than ``breached_within`` ago; with
    ``clocks``, a resolution deadline is the regulatory one when that is tighter."""
    rows = await source.open_deadlines(now, due_after=now - breached_within)
    if clocks is None or not rows:
        return rows
    return [d for d in tighten(rows, await clocks.open(now)) if d.due >= now - breached_within]


async def sla_nearest_breach(
    source: ReportSource,
    now: datetime,
    limit: int = 10,
    *,
    breached_within: timedelta = timedelta(hours=24),
    clocks: RegulatoryClocks | None = None,
) -> list[SlaDeadline]:
    """Open deadlines by time left: breached ones (most overdue first), then the nearest to breach."""
    rows = await open_deadlines(source, now, breached_within=breached_within, clocks=clocks)
    rows.sort(key=lambda d: (d.remaining_s, d.contact_id, d.kind))
    return rows[:limit]


def _alert(d: SlaDeadline, grace: timedelta) -> Alert | None:
    what = "first response" if d.kind == "first_response" else "resolution"
    regulated = d.tier in REGULATED_TIERS or d.rule is not None
    prefix = "Regulatory deadline" if regulated else "SLA"
    if d.rule is not None:
        what = f"regulatory deadline {d.rule} (tighter than the {d.tier} resolution SLA)"
    label = what[0].upper() + what[1:]
    if d.remaining_s <= 0:
        key = breach_key(d.contact_id, d.rule) if d.rule else f"sla:{d.contact_id}:{d.kind}:breach"
        return Alert(
            key=key, kind="sla_breach", tier=d.tier, thread_of=d.contact_id,
            title=f"{prefix} breached: {d.rule or what} for {d.contact_id}",
            text=f"{label} for *{d.contact_id}* ({d.category}, tier {d.tier}) was due "
            f"{d.due:%Y-%m-%d %H:%M} UTC and is {duration(-d.remaining_s)} overdue.",
        )  # fmt: skip
    warn_at = d.decided_at + (d.due - d.decided_at) * WARN_AT
    if warn_at <= d.now <= warn_at + grace:
        key = warning_key(d.contact_id, d.rule, WARN_AT) if d.rule else f"sla:{d.contact_id}:{d.kind}:80"
        return Alert(
            key=key, kind="sla_warning", tier=d.tier, thread_of=d.contact_id,
            title=f"{prefix} at {WARN_AT:.0%}: {d.rule or what} for {d.contact_id}",
            text=f"{label} for *{d.contact_id}* ({d.category}, tier {d.tier}) is due "
            f"{d.due:%Y-%m-%d %H:%M} UTC, in {duration(d.remaining_s)}.",
        )  # fmt: skip
    return None


async def sla_alerts(
    source: ReportSource,
    sink: AlertSink,
    now: datetime,
    *,
    grace: timedelta = timedelta(minutes=15),
    clocks: RegulatoryClocks | None = None,
) -> list[Alert]:
    """Send the 80 % warning and the breach alert of every open deadline that crossed the mark within ``grace``.

    The scheduler runs this every minute, so each alert is offered a few times at most (covering missed runs and
    restarts); the sink's idempotency on the alert key makes those repeats harmless. With ``clocks``, a regulatory
    deadline tighter than a hand-off's resolution SLA is alerted instead (under the clock's alert keys).
    """
    sent = []
    for deadline in await open_deadlines(source, now, breached_within=grace, clocks=clocks):
        alert = _alert(deadline, grace)
        if alert is not None:
            await sink.send(alert)
            sent.append(alert)
    return sent
