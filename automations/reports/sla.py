"""Open SLA deadlines of hand-offs: the nearest to breach (for ``/cx sla``) and the alerts at 80 % and at breach.

A hand-off has two deadlines: first response (open until the first ``first_response`` agent event) and resolution
(open until the first ``closed`` event). Legal and compliance deadlines (legal requests, regulatory complaints,
DSARs) are ordinary resolution deadlines of those tiers, days long, and are alerted the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from automations.alerts import Alert, AlertSink
from automations.reports.ports import ReportSource
from automations.reports.values import SlaDeadline
from automations.reports.wording import duration

__all__ = ["WARN_AT", "SlaDeadline", "open_deadlines", "sla_alerts", "sla_nearest_breach"]

WARN_AT = 0.8
REGULATED_TIERS = ("legal", "compliance")


async def open_deadlines(source: ReportSource, now: datetime, *, breached_within: timedelta) -> list[SlaDeadline]:
    """Deadlines still open at ``now``: not yet due, or breached less than ``breached_within`` ago."""
    return await source.open_deadlines(now, due_after=now - breached_within)


async def sla_nearest_breach(
    source: ReportSource, now: datetime, limit: int = 10, *, breached_within: timedelta = timedelta(hours=24)
) -> list[SlaDeadline]:
    """Open deadlines by time left: breached ones (most overdue first), then the nearest to breach."""
    rows = await open_deadlines(source, now, breached_within=breached_within)
    rows.sort(key=lambda d: (d.remaining_s, d.contact_id, d.kind))
    return rows[:limit]


def _alert(d: SlaDeadline, grace: timedelta) -> Alert | None:
    what = "first response" if d.kind == "first_response" else "resolution"
    regulated = d.tier in REGULATED_TIERS
    prefix = "Regulatory deadline" if regulated else "SLA"
    if d.remaining_s <= 0:
        return Alert(
            key=f"sla:{d.contact_id}:{d.kind}:breach", kind="sla_breach", tier=d.tier, thread_of=d.contact_id,
            title=f"{prefix} breached: {what} for {d.contact_id}",
            text=f"{what.capitalize()} for *{d.contact_id}* ({d.category}, tier {d.tier}) was due "
            f"{d.due:%Y-%m-%d %H:%M} UTC and is {duration(-d.remaining_s)} overdue.",
        )  # fmt: skip
    warn_at = d.decided_at + (d.due - d.decided_at) * WARN_AT
    if warn_at <= d.now <= warn_at + grace:
        return Alert(
            key=f"sla:{d.contact_id}:{d.kind}:80", kind="sla_warning", tier=d.tier, thread_of=d.contact_id,
            title=f"{prefix} at {WARN_AT:.0%}: {what} for {d.contact_id}",
            text=f"{what.capitalize()} for *{d.contact_id}* ({d.category}, tier {d.tier}) is due "
            f"{d.due:%Y-%m-%d %H:%M} UTC, in {duration(d.remaining_s)}.",
        )  # fmt: skip
    return None


async def sla_alerts(
    source: ReportSource, sink: AlertSink, now: datetime, *, grace: timedelta = timedelta(minutes=15)
) -> list[Alert]:
    """Send the 80 % warning and the breach alert of every open deadline that crossed the mark within ``grace``.

    The scheduler runs this every minute, so each alert is offered a few times at most (covering missed runs and
    restarts); the sink's idempotency on the alert key makes those repeats harmless.
    """
    sent = []
    for deadline in await open_deadlines(source, now, breached_within=grace):
        alert = _alert(deadline, grace)
        if alert is not None:
            await sink.send(alert)
            sent.append(alert)
    return sent
