"""Report charts as PNG bytes (matplotlib, Agg backend, no pyplot global state: safe in any thread).

One style for every chart (:data:`STYLE`): fonts large enough to read in Slack's preview, titles with units,
constrained layout so labels never overlap, legends outside the data, long driver names shortened. Each chart is
built as a :class:`~matplotlib.figure.Figure` by a ``*_figure`` function (tested for overlapping text) and turned
into PNG by the matching ``render_*`` function.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from automations.reports.daily import DayPoint
from automations.reports.forecast import ShiftPlan, WeekForecast
from automations.reports.narrative import Report

__all__ = [
    "COLORS",
    "STYLE",
    "forecast_figure",
    "overview_figure",
    "render_chart",
    "render_forecast_chart",
    "render_trend_chart",
    "shorten",
    "trend_figure",
]

COLORS = {"now": "#2b6cb0", "before": "#a0aec0", "good": "#2f855a", "warn": "#dd6b20", "accent": "#6b46c1"}
STYLE = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 15,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e2e8f0",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
"""rcParams every chart is drawn with."""


def shorten(name: str, width: int = 22) -> str:
    """A driver or group name for an axis: underscores as spaces, cut to ``width`` characters with an ellipsis."""
    text = name.replace("_", " ")
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _figure(width: float, height: float) -> Figure:
    with rc_context(STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _png(figure: Figure) -> bytes:
    with rc_context(STYLE):
        FigureCanvasAgg(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _bar_labels(axis: Axes, values: Sequence[float]) -> None:
    """Write each horizontal bar's value (a percentage) inside its end, or just past it when the bar is short."""
    for y, value in enumerate(values):
        inside = value >= 25
        axis.text(value - 1.5 if inside else value + 1.5, y, f"{value:.0f}%", va="center",
                  ha="right" if inside else "left", color="white" if inside else "#1a202c", fontsize=10)  # fmt: skip


def overview_figure(report: Report, *, top: int = 8) -> Figure:
    """Three panels: contacts by driver group (this period and the previous one), deflection of the busiest drivers,
    and SLA adherence by tier."""
    with rc_context(STYLE):
        figure = _figure(15, 5.4)
        volume, deflection, sla = figure.subplots(1, 3, gridspec_kw={"wspace": 0.08})
        groups = report.current.groups[:top]
        before = {g.key: g.contacts for g in report.previous.groups}
        ys = list(range(len(groups)))
        volume.barh([y - 0.2 for y in ys], [g.contacts for g in groups], height=0.4, color=COLORS["now"],
                    label="this period")  # fmt: skip
        volume.barh([y + 0.2 for y in ys], [before.get(g.key, 0) for g in groups], height=0.4,
                    color=COLORS["before"], label="previous period")  # fmt: skip
        volume.set_yticks(ys, [shorten(g.key) for g in groups])
        volume.invert_yaxis()
        volume.set_title("Contacts by driver group")
        volume.set_xlabel("contacts")
        volume.xaxis.set_major_locator(MaxNLocator(4))
        volume.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        volume.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)
        drivers = [d for d in report.current.drivers if d.deflection_rate is not None][:top]
        values = [100 * (d.deflection_rate or 0) for d in drivers]
        deflection.barh(range(len(drivers)), values, height=0.6, color=COLORS["good"])
        deflection.set_yticks(range(len(drivers)), [shorten(d.key) for d in drivers])
        deflection.invert_yaxis()
        deflection.set_xlim(0, 100)
        deflection.xaxis.set_major_formatter(PercentFormatter())
        deflection.set_title("Deflection, busiest drivers")
        deflection.set_xlabel("settled bot answers resolved (%)")
        _bar_labels(deflection, values)
        tiers = [t for t in report.current.sla if t.adherence is not None]
        values = [100 * (t.adherence or 0) for t in tiers]
        sla.barh(range(len(tiers)), values, height=0.6, color=COLORS["warn"])
        sla.set_yticks(range(len(tiers)), [t.tier for t in tiers])
        sla.invert_yaxis()
        sla.set_xlim(0, 100)
        sla.xaxis.set_major_formatter(PercentFormatter())
        sla.set_title("SLA adherence by tier")
        sla.set_xlabel("deadlines met (%)")
        _bar_labels(sla, values)
        for axis in (volume, deflection, sla):
            axis.grid(axis="y", visible=False)
        figure.suptitle(f"Support report, {report.period.describe()}")
        return figure


def _percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


TREND_PANELS: tuple[tuple[str, str, Callable[[DayPoint], float | None], str], ...] = (
    ("Contacts per day", "contacts", lambda d: float(d.contacts), COLORS["now"]),
    ("Deflection", "%", lambda d: _percent(d.settled_deflection), COLORS["good"]),
    ("Automation", "%", lambda d: _percent(d.settled_automation), COLORS["accent"]),
    ("CSAT", "mean score, 1-5", lambda d: d.csat, COLORS["warn"]),
    ("SLA adherence", "%", lambda d: _percent(d.sla_adherence), COLORS["warn"]),
    ("First response", "minutes (mean)",
     lambda d: None if d.first_response_mean_s is None else d.first_response_mean_s / 60, COLORS["now"]),
)  # fmt: skip
"""The trend chart's panels: title, unit, value of a day, colour."""


MIN_SPAN = {"%": 10.0, "mean score, 1-5": 0.5}
"""The least y range of a trend panel, so that noise a few tenths of a point wide does not fill the panel."""


def _min_span(axis: Axes, values: Sequence[float], span: float) -> None:
    if not values or span <= 0:
        return
    low, high = min(values), max(values)
    if high - low < span:
        middle = (low + high) / 2
        axis.set_ylim(middle - span / 2, middle + span / 2)


def trend_figure(report: Report) -> Figure:
    """Small multiples of the daily series over the period's full days (a note instead when there are fewer than
    two)."""
    days = report.full_days
    with rc_context(STYLE):
        figure = _figure(15, 7.2)
        if len(days) < 2:
            axis = figure.subplots()
            axis.set_axis_off()
            axis.text(0.5, 0.5, "Fewer than two full days in this period: no daily trend.", ha="center", va="center")
            return figure
        axes = figure.subplots(2, 3, sharex=True)
        dates = [datetime(d.day.year, d.day.month, d.day.day) for d in days]
        for axis, (title, unit, value, color) in zip(axes.flat, TREND_PANELS, strict=True):
            points = [(x, value(d)) for x, d in zip(dates, days, strict=True)]
            xs, ys = [x for x, y in points if y is not None], [y for _, y in points if y is not None]
            axis.plot(xs, ys, color=color, marker="o", markersize=3.5, linewidth=2)
            _min_span(axis, ys, MIN_SPAN.get(unit, 0.0))
            axis.set_title(title)
            axis.set_ylabel(unit)
            axis.yaxis.set_major_locator(MaxNLocator(5))
            if unit == "%":
                axis.yaxis.set_major_formatter(PercentFormatter(decimals=None))
            elif unit == "contacts":
                axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            axis.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=5))
            axis.xaxis.set_major_formatter(DateFormatter("%d %b"))
        figure.suptitle(f"Daily trends, {days[0].day:%d %b} to {days[-1].day:%d %b} ({len(days)} full days)")
        return figure


def forecast_figure(forecast: WeekForecast, plans: Sequence[ShiftPlan]) -> Figure:
    """Forecast contacts and hand-offs by hour for the week, with the rostered agents per shift."""
    with rc_context(STYLE):
        figure = _figure(15, 5.4)
        axis = figure.subplots()
        hours = [h.start for h in forecast.hours]
        axis.plot(hours, [h.contacts for h in forecast.hours], label="contacts", color=COLORS["now"])
        axis.plot(hours, [h.handoffs for h in forecast.hours], label="hand-offs", color=COLORS["warn"])
        axis.set_ylabel("contacts per hour")
        axis.xaxis.set_major_formatter(DateFormatter("%a %d"))
        agents = axis.twinx()
        agents.step([p.start for p in plans], [p.agents for p in plans], where="post", color=COLORS["good"],
                    label="agents rostered")  # fmt: skip
        agents.set_ylabel("agents rostered")
        agents.grid(False)
        agents.spines["right"].set_visible(True)
        lines = axis.get_lines() + agents.get_lines()
        axis.legend(lines, [str(line.get_label()) for line in lines], loc="upper center",
                    bbox_to_anchor=(0.5, -0.1), ncols=3, frameon=False)  # fmt: skip
        axis.set_title(f"Forecast for the week from {hours[0]:%a %d %b} ({forecast.tz})")
        return figure


def render_chart(report: Report, *, top: int = 8) -> bytes:
    """The overview chart (:func:`overview_figure`) as PNG."""
    return _png(overview_figure(report, top=top))


def render_trend_chart(report: Report) -> bytes:
    """The daily trend chart (:func:`trend_figure`) as PNG."""
    return _png(trend_figure(report))


def render_forecast_chart(forecast: WeekForecast, plans: list[ShiftPlan]) -> bytes:
    """The staffing forecast chart (:func:`forecast_figure`) as PNG."""
    return _png(forecast_figure(forecast, plans))
