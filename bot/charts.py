"""Report charts as PNG bytes (matplotlib, Agg backend, no pyplot global state: safe in any thread)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from automations.reports.forecast import ShiftPlan, WeekForecast
from automations.reports.narrative import Report

__all__ = ["render_chart", "render_forecast_chart"]


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def render_chart(report: Report, *, top: int = 8) -> bytes:
    """Three panels: contacts by driver group (this vs previous period), deflection of the top drivers, and SLA
    adherence by tier."""
    figure = Figure(figsize=(13, 4.2))
    volume, deflection, sla = figure.subplots(1, 3)
    groups = [g.key for g in report.current.groups][:top]
    before = {g.key: g.contacts for g in report.previous.groups}
    now_counts = [g.contacts for g in report.current.groups][:top]
    xs = range(len(groups))
    volume.barh([x + 0.2 for x in xs], now_counts, height=0.4, label="this period", color="#2b6cb0")
    volume.barh(
        [x - 0.2 for x in xs], [before.get(g, 0) for g in groups], height=0.4, label="previous", color="#a0aec0"
    )
    volume.set_yticks(list(xs), groups)
    volume.invert_yaxis()
    volume.set_title("Contacts by driver group")
    volume.legend(loc="lower right", fontsize=8)
    drivers = [d for d in report.current.drivers if d.deflection_rate is not None][:top]
    deflection.barh([d.key for d in drivers], [100 * (d.deflection_rate or 0) for d in drivers], color="#38a169")
    deflection.invert_yaxis()
    deflection.set_xlim(0, 100)
    deflection.set_title("Deflection of the top drivers (%)")
    tiers = [t for t in report.current.sla if t.adherence is not None]
    sla.bar([t.tier for t in tiers], [100 * (t.adherence or 0) for t in tiers], color="#dd6b20")
    sla.set_ylim(0, 100)
    sla.set_title("SLA adherence by tier (%)")
    figure.suptitle(f"Support report {report.period.describe()}", fontsize=11)
    return _png(figure)


def render_forecast_chart(forecast: WeekForecast, plans: list[ShiftPlan]) -> bytes:
    """Forecast contacts and hand-offs by hour for the week, with the rostered agents per shift."""
    figure = Figure(figsize=(13, 4))
    axis = figure.subplots()
    hours = [h.start for h in forecast.hours]
    axis.plot(hours, [h.contacts for h in forecast.hours], label="contacts", color="#2b6cb0")
    axis.plot(hours, [h.handoffs for h in forecast.hours], label="hand-offs", color="#dd6b20")
    axis.set_ylabel("per hour")
    agents = axis.twinx()
    agents.step([p.start for p in plans], [p.agents for p in plans], where="post", color="#38a169", label="agents")
    agents.set_ylabel("agents rostered")
    axis.legend(loc="upper left")
    axis.set_title(f"Forecast for the week from {hours[0]:%a %d %b} ({forecast.tz})")
    return _png(figure)
