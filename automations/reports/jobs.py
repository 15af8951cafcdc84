"""The scheduled jobs' core: digests and spike alerts (SLA alerts live in :mod:`automations.reports.sla`).

Each job takes the time explicitly, so it runs the same under the real clock and a settable one, and talks only to
an :class:`~automations.alerts.AlertSink` with deterministic keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from automations.alerts import Alert, AlertSink
from automations.deadlines import RegulatoryClocks
from automations.reports.benchmarks import BenchmarkFile
from automations.reports.markdown import render_markdown
from automations.reports.metrics import DEFAULT_COSTS, CostModel
from automations.reports.narrative import Report, build_report
from automations.reports.okrs import OkrFile
from automations.reports.periods import Period
from automations.reports.ports import ReportSource
from automations.reports.spikes import SpikeRule, find_spikes, spike_examples

__all__ = ["digest_period", "send_digest", "spike_alerts"]

ChartRenderer = Callable[[Report], bytes]


def digest_period(kind: Literal["daily", "weekly"], now: datetime, tz: str = "UTC") -> Period:
    """Yesterday (daily) or the seven full days before today (weekly), in the reporting time zone."""
    today = now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = 1 if kind == "daily" else 7
    start, end = (today - timedelta(days=days)).astimezone(UTC), today.astimezone(UTC)
    return Period("yesterday" if kind == "daily" else "last 7 days", start, end)


async def send_digest(
    source: ReportSource,
    sink: AlertSink,
    now: datetime,
    *,
    kind: Literal["daily", "weekly"],
    tz: str = "UTC",
    costs: CostModel = DEFAULT_COSTS,
    chart: ChartRenderer | None = None,
    okrs: OkrFile | None = None,
    benchmarks: BenchmarkFile | None = None,
    clocks: RegulatoryClocks | None = None,
) -> Alert:
    """Post the daily or weekly digest: the report's Markdown (with OKR progress, benchmarks and regulatory deadlines
    when given) and, when a renderer is given, its chart."""
    period = digest_period(kind, now, tz)
    report = await build_report(
        source, period, now=now, costs=costs, tz=tz, okrs=okrs, benchmarks=benchmarks, clocks=clocks
    )
    alert = Alert(
        key=f"digest:{kind}:{period.start:%Y-%m-%d}",
        kind=f"digest_{kind}",
        title=f"{kind.capitalize()} support digest: {period.start:%a %d %b}"
        + ("" if kind == "daily" else f" to {period.end - timedelta(days=1):%a %d %b}"),
        text=render_markdown(report),
        image_png=chart(report) if chart is not None else None,
    )
    await sink.send(alert)
    return alert


async def spike_alerts(
    source: ReportSource,
    sink: AlertSink,
    now: datetime,
    rule: SpikeRule = SpikeRule(),  # noqa: B008
) -> list[Alert]:
    """Alert on every driver that spiked in the last full hour, with example messages."""
    sent = []
    for spike in await find_spikes(source, now, rule):
        examples = await spike_examples(source, spike)
        alert = Alert(
            key=f"spike:{spike.category}:{spike.hour:%Y-%m-%dT%H}",
            kind="spike",
            title=f"Spike: {spike.category} ({spike.observed} contacts, usually {spike.baseline:.1f})",
            text=(
                f"*{spike.category}* had {spike.observed} contacts between {spike.hour:%H:%M} and "
                f"{spike.hour + timedelta(hours=1):%H:%M} UTC on {spike.hour:%a %d %b}, against "
                f"{spike.baseline:.1f} in the same hour of previous weeks (p = {spike.p_value:.1e})."
            ),
            examples=examples,
        )
        await sink.send(alert)
        sent.append(alert)
    return sent
