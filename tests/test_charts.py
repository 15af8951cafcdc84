"""Every chart renders with readable text and no two text boxes overlapping (nor a legend over the data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from automations.reports.daily import DayPoint
from automations.reports.forecast import HourForecast, ShiftPlan, WeekForecast
from automations.reports.metrics import Metrics
from automations.reports.narrative import Report, build
from automations.reports.periods import Period
from automations.reports.values import CostSummary, Csat, Durations, Slice, TierSla
from bot.charts import forecast_figure, overview_figure, render_chart, render_trend_chart, trend_figure

NOW = datetime(2026, 6, 30, 9, 30, tzinfo=UTC)
PERIOD = Period("30d", NOW - timedelta(days=30), NOW)
LONG = ["transfer_not_received_by_recipient", "card_payment_wrong_exchange_rate", "direct_debit_payment_not_recognised",
        "balance_not_updated_after_cheque_or_cash_deposit", "verify_source_of_funds", "card_arrival",
        "pending_top_up", "wrong_exchange_rate_for_cash_withdrawal", "extra"]  # fmt: skip
GROUPS = ["Compliance & legal", "Account & identity", "Security & fraud", "Cards", "Payments", "Transfers",
          "Top-ups", "Fees & FX", "Out of scope"]  # fmt: skip
TIERS = ["bot", "compliance", "fraud", "legal", "payments", "t1", "t2"]


def metrics(period: Period, scale: int) -> Metrics:
    def piece(key: str, i: int) -> Slice:
        contacts = scale * (120_000 - 9000 * i)
        return Slice(key, key, contacts, contacts // 2, contacts // 2, contacts // 3, contacts // 2 - 5, 5, 7, 10, 40)

    drivers = tuple(piece(k, i) for i, k in enumerate(LONG))
    groups = tuple(piece(k, i) for i, k in enumerate(GROUPS))
    sla = tuple(TierSla(t, 1000, 900 - 80 * i, 100 + 80 * i, 950, 50) for i, t in enumerate(TIERS))
    none = Durations(0, None, None, None)
    total = Slice("all", "all", sum(d.contacts for d in drivers), 10, 10, 5, 8, 1, 1, 1, 4)
    return Metrics(period, NOW, total, (), Csat(3.9, 100, 0.7, 4.2, 3.6), sla, none, none, none,
                   CostSummary(1.0, 1, 1.0), drivers, groups, (), ())  # fmt: skip


def report() -> Report:
    days = tuple(
        DayPoint(date(2026, 5, 31) + timedelta(days=i), 24.0, 40_000 + 3000 * (i % 7), 27_000, 20_000 + 97 * i,
                 26_000, 900, 9000, 35_000, 6000, 9000 + 10 * i, 800, 10_000, 10_000 * (1800 + 60 * i))
        for i in range(30)
    )  # fmt: skip
    return build(metrics(PERIOD, 3), metrics(PERIOD.previous(), 2), daily=days)


def forecast() -> tuple[WeekForecast, list[ShiftPlan]]:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    hours = tuple(HourForecast(start + timedelta(hours=h), 400 + 300 * ((h % 24) > 8), 120.0) for h in range(168))
    plans = [ShiftPlan(f"day{d}", name, start + timedelta(hours=24 * d + first), 130.0, 900.0, 40 + d)
             for d in range(7) for name, first in (("night", 0), ("early", 8), ("late", 16))]  # fmt: skip
    return WeekForecast(hours, 4, "UTC"), plans


def drawn_texts(figure: Figure) -> list[Text]:
    """The visible, non-empty texts the renderer draws (tick labels only for ticks inside the view)."""
    ticks: set[int] = set()
    drawn: list[Text] = []
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = (high - low) * 1e-6
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    ticks.add(id(label))
                    inside = low - slack <= tick.get_loc() <= high + slack
                    if inside and label.get_visible() and label.get_text().strip():
                        drawn.append(label)
    for text in figure.findobj(Text):
        if id(text) not in ticks and text.get_visible() and text.get_text().strip():
            drawn.append(text)
    return drawn


def overlap(a: Bbox, b: Bbox) -> float:
    """Area (pixels²) of the intersection of two boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, width) * max(0.0, height)


def check(figure: Figure) -> None:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = drawn_texts(figure)
    assert texts
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    page = figure.bbox
    for i, (label, box) in enumerate(boxes):
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, f"{label!r} leaves the figure"
        for other, other_box in boxes[i + 1 :]:
            assert overlap(box, other_box) < 1.0, f"{label!r} overlaps {other!r}"
    assert min(t.get_fontsize() for t in texts) >= 10  # readable when Slack scales the preview down
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is None:
            continue
        frame = legend.get_window_extent(renderer)
        bars = [p for p in axes.patches if isinstance(p, Rectangle)]
        assert all(overlap(frame, bar.get_window_extent(renderer)) < 1.0 for bar in bars), "legend covers a bar"


@pytest.mark.parametrize("name", ["overview", "trend", "trend_short", "forecast"])
def test_chart_text_never_overlaps(name: str) -> None:
    r = report()
    if name == "overview":
        figure = overview_figure(r)
    elif name == "trend":
        figure = trend_figure(r)
    elif name == "trend_short":
        figure = trend_figure(build(r.current, r.previous, daily=r.daily[:1]))
    else:
        figure = forecast_figure(*forecast())
    check(figure)


def test_the_overlap_check_catches_overlapping_labels() -> None:
    figure = Figure(figsize=(3, 2))
    axes = figure.subplots()
    axes.barh(range(6), range(6))
    axes.set_yticks(range(6), [name * 2 for name in LONG[:6]])  # long labels crammed into a small figure
    axes.text(0.5, 0.5, "over the other text", transform=axes.transAxes, fontsize=20)
    axes.text(0.5, 0.5, "and this one", transform=axes.transAxes, fontsize=20)
    with pytest.raises(AssertionError):
        check(figure)


def test_charts_render_as_png() -> None:
    r = report()
    assert render_chart(r).startswith(b"\x89PNG") and render_trend_chart(r).startswith(b"\x89PNG")
