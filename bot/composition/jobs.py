"""The composition root's process wiring beyond the web service: the scheduler's jobs and the CLI's report source."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from automations.alerts import Alert, AlertSink
from automations.outcomes import OutcomeTracker
from automations.ports import Clock
from automations.reports.ports import ReportSource
from automations.reports.values import CostModel
from bot.composition import make_embedder, open_index
from bot.scheduler import JobSpec, SchedulerLock
from bot.settings import Settings
from store import SqlEventStore, SqlReportSource
from store.queues import SqlOutbox

__all__ = ["Scheduled", "build_scheduler", "open_reports"]


@contextlib.asynccontextmanager
async def open_reports(settings: Settings) -> AsyncIterator[ReportSource]:
    """The reports' source over the configured event store, for one CLI command (no model is loaded)."""
    store = await SqlEventStore.open(settings.db_url)
    try:
        yield SqlReportSource(store.engine)
    finally:
        await store.close()


@dataclass
class Scheduled:
    """The scheduler process's jobs, its single-process lock, and what to release at exit."""

    specs: list[JobSpec]
    lock: SchedulerLock
    close: Callable[[], Awaitable[None]]


async def build_scheduler(settings: Settings, *, clock: Clock) -> Scheduled:
    """The jobs of ``autopilot scheduler``: outcomes, report facts, SLA and spike alerts, digests, the KB sync.

    Alerts go to Slack through the outbox when Slack is configured (the workers send them), else to the log.
    """
    from automations.reports.benchmarks import load_benchmarks
    from automations.reports.okrs import load_okrs
    from bot.charts import render_chart
    from bot.scheduler import LogAlertSink, job_specs, scheduler_lock
    from bot.slack.wiring import slack_alert_sink
    from knowledge.ingest import ingest

    store = await SqlEventStore.open(settings.db_url)
    sink: AlertSink = slack_alert_sink(settings, SqlOutbox(store.engine), clock) or LogAlertSink()
    tracker = OutcomeTracker(
        store,
        resolve_after=timedelta(hours=settings.resolve_after_hours),
        reopen_within=timedelta(days=settings.reopen_within_days),
    )

    async def kb_sync() -> None:
        report = await ingest(settings.kb_path, open_index(settings, make_embedder(settings)))
        if report.changed:
            text = (
                f"added {len(report.added)}, updated {len(report.updated)}, deleted {len(report.deleted)} articles;"
                f" {report.sections} sections embedded."
            )
            await sink.send(Alert(f"kb_sync:{clock.now():%Y-%m-%d}", "kb_sync", "Knowledge base re-indexed", text))

    specs = job_specs(
        reports=SqlReportSource(store.engine), tracker=tracker, sink=sink, start=clock.now(),
        tz=settings.report_timezone, chart=render_chart, kb_sync=kb_sync,
        costs=CostModel(settings.cost_per_contact, settings.cost_per_bot_contact, settings.aht_seconds),
        okrs=load_okrs(settings.okrs_path), benchmarks=load_benchmarks(settings.benchmarks_path),
    )  # fmt: skip
    return Scheduled(specs, scheduler_lock(settings.db_url, store.engine), store.close)
