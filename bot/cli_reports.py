"""CLI commands ``report``, ``insights``, ``staffing`` and ``scheduler`` (registered on the main typer app)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from automations.reports.metrics import CostModel
from automations.reports.ports import ReportSource
from bot.settings import Settings

__all__ = ["register"]

T = TypeVar("T")
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def _costs(settings: Settings) -> CostModel:
    return CostModel(settings.cost_per_contact, settings.cost_per_bot_contact, settings.aht_seconds)


def _with_reports(settings: Settings, work: Callable[[ReportSource], Awaitable[T]]) -> T:
    """Run ``work`` on the reports' source over the configured event store (opened and closed around it)."""
    from bot.composition import open_reports

    async def go() -> T:
        async with open_reports(settings) as reports:
            return await work(reports)

    return asyncio.run(go())


def _period(spec: str, settings: Settings) -> Any:
    from automations.reports.periods import parse_period

    try:
        return parse_period(spec, datetime.now(UTC), settings.report_timezone)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def report(
    period: Annotated[str, typer.Option(help="today, yesterday, 7d, 30d, qtd, mtd, wtd, 24h, 4w ...")] = "7d",
    fmt: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    chart: Annotated[Path | None, typer.Option(help="Also write the overview chart PNG here.")] = None,
    trend_chart: Annotated[Path | None, typer.Option(help="Also write the daily trend chart PNG here.")] = None,
    retro: Annotated[
        str | None, typer.Option(help="Instead, the semi-annual OKR retrospective of this half, e.g. H2-2026.")
    ] = None,
) -> None:
    """What's working and what isn't: headline metrics, significant changes, daily trends, SLA misses, KB gaps,
    OKR progress, industry benchmarks and regulatory deadlines (met, missed and open by rule)."""
    from automations.reports.benchmarks import load_benchmarks
    from automations.reports.html import render_html
    from automations.reports.markdown import render_markdown
    from automations.reports.narrative import build_report
    from automations.reports.okrs import load_okrs
    from bot.charts import render_chart, render_trend_chart

    if fmt not in ("md", "html", "json"):
        err.print(f"[bold red]error:[/] unknown format {fmt!r}: use md, html or json")
        raise typer.Exit(2)
    settings = Settings()
    okrs = load_okrs(settings.okrs_path)
    if retro is not None:
        _emit(_retrospective(settings, okrs, retro, fmt), out)
        return
    benchmarks = load_benchmarks(settings.benchmarks_path)
    span = _period(period, settings)

    async def build() -> Any:
        from bot.composition import open_reporting
        from bot.composition.team import open_team

        async with open_reporting(settings) as (reports, clocks), open_team(settings) as team:
            return await build_report(
                reports, span, now=datetime.now(UTC), costs=_costs(settings), tz=settings.report_timezone,
                resolve_after=timedelta(hours=settings.resolve_after_hours), okrs=okrs, benchmarks=benchmarks,
                clocks=clocks, team=team,
            )  # fmt: skip

    result = asyncio.run(build())
    images: list[tuple[str, Path | None, bytes]] = []
    if chart is not None or fmt == "html":
        images.append(("Contacts, deflection and SLA adherence", chart, render_chart(result)))
    if trend_chart is not None or fmt == "html":
        images.append(("Daily trends", trend_chart, render_trend_chart(result)))
    for _, path, png in images:
        if path is not None:
            path.write_bytes(png)
    if fmt == "json":
        text = json.dumps(result.to_json(), indent=2)
    elif fmt == "html":
        text = render_html(result, [(caption, png) for caption, _, png in images])
    else:
        text = render_markdown(result)
        text += "".join(f"\n![{caption}]({path})\n" for caption, path, _ in images if path is not None)
    _emit(text, out)


def _emit(text: str, out: Path | None) -> None:
    if out is not None:
        out.write_text(text, encoding="utf-8")
        err.print(f"report written to {out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _retrospective(settings: Settings, okrs: Any, half: str, fmt: str) -> str:
    """``report --retro H2-2026``: the half's targets, hit or missed, with the drivers of each."""
    from automations.reports.html import render_page
    from automations.reports.okrs import half_period
    from automations.reports.retro import build_retro, render_retro

    label = half.strip().upper()
    try:
        half_period(label, settings.report_timezone, now=datetime.now(UTC))
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    targets = okrs.for_half(label)
    if targets is None:
        err.print(f"[bold red]error:[/] no OKR targets for {label} in {settings.okrs_path}")
        raise typer.Exit(2)
    result = _with_reports(
        settings,
        lambda r: build_retro(
            r, targets, now=datetime.now(UTC), tz=settings.report_timezone, costs=_costs(settings),
            resolve_after=timedelta(hours=settings.resolve_after_hours),
        ),
    )  # fmt: skip
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2)
    markdown = render_retro(result)
    if fmt == "html":
        span = f"{result.period.start:%Y-%m-%d} to {result.period.end:%Y-%m-%d}"
        return render_page(f"Retrospective {result.half}", span, markdown)
    return markdown


def insights(
    period: Annotated[str, typer.Option(help="Period to analyse.")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Rows per list.")] = 10,
    target: Annotated[float | None, typer.Option(help="Target automation rate (default: top quartile).")] = None,
) -> None:
    """Rank automation candidates (hours and cost saved) and cluster knowledge-base gaps."""
    from automations.reports.insights import automation_candidates, kb_gaps
    from automations.taxonomy import load_taxonomy
    from bot.composition import make_embedder

    settings = Settings()
    span = _period(period, settings)
    protected = [c.id for c in load_taxonomy(settings.taxonomy_path) if not c.bot_may_answer]

    async def work(reports: ReportSource) -> tuple[Any, Any]:
        now = datetime.now(UTC)
        cands = await automation_candidates(
            reports, span, now=now, costs=_costs(settings), protected=protected, target_automation=target, limit=limit
        )
        return cands, await kb_gaps(reports, span, make_embedder(settings), limit=limit)

    candidates, gaps = _with_reports(settings, work)
    if as_json:
        doc = {"period": span.label, "automation_candidates": [c.to_json() for c in candidates],
               "kb_gaps": [g.to_json() for g in gaps]}  # fmt: skip
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(title=f"Automation candidates ({span.describe()}), savings per 30 days")
    for col in ("driver", "contacts", "automation", "target", "contacts saved", "hours saved", "cost saved"):
        table.add_column(col, justify="left" if col == "driver" else "right")
    for c in candidates:
        table.add_row(c.category, f"{c.contacts:,}", f"{c.automation_rate:.0%}", f"{c.target_automation:.0%}",
                      f"{c.contacts_saved_per_month:,.0f}", f"{c.hours_saved_per_month:,.1f}",
                      f"{c.cost_saved_per_month:,.2f}")  # fmt: skip
    console.print(table)
    console.print("\n[bold]Knowledge-base gaps[/] (handed off: no good article)")
    for g in gaps:
        console.print(f"- {g.size} questions, mostly {g.top_category}:", markup=False)
        for example in g.examples:
            console.print(f"    “{example}”", markup=False, highlight=False)


def staffing(
    week: Annotated[bool, typer.Option("--week", help="Forecast next week by hour and plan shifts.")] = False,
    volume_per_hour: Annotated[float | None, typer.Option(help="Contacts per hour for one interval.")] = None,
    aht: Annotated[float | None, typer.Option(help="Average handle time, seconds [default: AHT_SECONDS].")] = None,
    service_level: Annotated[float, typer.Option(help="Target share answered in time.")] = 0.8,
    answer_within: Annotated[float, typer.Option(help="Answer-time target, seconds.")] = 20.0,
    shrinkage: Annotated[float, typer.Option(help="Share of paid time agents are unavailable.")] = 0.3,
    weeks: Annotated[int, typer.Option(help="Weeks of history for --week.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    chart: Annotated[Path | None, typer.Option(help="With --week: write the forecast chart PNG here.")] = None,
) -> None:
    """Agents needed: Erlang C for one interval, or a week's forecast by hour turned into shifts."""
    from automations.reports.forecast import forecast_week, plan_shifts
    from automations.reports.staffing import erlang_c_agents

    settings = Settings()
    handle = aht or settings.aht_seconds
    if volume_per_hour is not None:
        try:
            result = erlang_c_agents(
                volume_per_hour, handle, service_level=service_level, answer_within_s=answer_within, shrinkage=shrinkage
            )
        except ValueError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        if as_json:
            sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        else:
            console.print(
                f"{result.agents} agents to roster ({result.base_agents} on the phones, {shrinkage:.0%} shrinkage): "
                f"traffic {result.traffic_erlangs:.2f} Erlangs, service level {result.service_level_achieved:.1%} "
                f"within {answer_within:.0f}s, ASA {result.asa_s:.0f}s, occupancy {result.occupancy:.0%}"
            )
        return
    if not week:
        err.print("[bold red]error:[/] give --volume-per-hour N for one interval, or --week")
        raise typer.Exit(2)
    forecast = _with_reports(
        settings, lambda r: forecast_week(r, datetime.now(UTC), weeks=weeks, tz=settings.report_timezone)
    )
    plans = plan_shifts(
        forecast, aht_seconds=handle, service_level=service_level, answer_within_s=answer_within, shrinkage=shrinkage
    )
    if chart is not None:
        from bot.charts import render_forecast_chart

        chart.write_bytes(render_forecast_chart(forecast, plans))
    if as_json:
        doc = {"tz": forecast.tz, "weeks_of_history": weeks, "shifts": [p.to_json() for p in plans],
               "hours": [{"start": h.start.isoformat(), "contacts": round(h.contacts, 2),
                          "handoffs": round(h.handoffs, 2)} for h in forecast.hours]}  # fmt: skip
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(title=f"Staffing plan ({forecast.tz}), from {weeks} weeks of history")
    for col in ("day", "shift", "expected hand-offs", "peak per hour", "agents"):
        table.add_column(col, justify="left" if col in ("day", "shift") else "right")
    for p in plans:
        table.add_row(p.day, p.shift, f"{p.expected_handoffs:,.0f}", f"{p.peak_handoffs_per_hour:,.1f}", str(p.agents))
    console.print(table)


def scheduler() -> None:
    """Run the scheduled jobs (one process per database: the others stand by)."""
    from bot.scheduler import serve_scheduler

    asyncio.run(serve_scheduler(Settings()))


def register(app: typer.Typer) -> None:
    """Add ``report``, ``insights``, ``staffing`` and ``scheduler`` to ``app``."""
    app.command()(report)
    app.command()(insights)
    app.command()(staffing)
    app.command()(scheduler)
