"""The composition root's process wiring beyond the web service: the scheduler's jobs and the CLI's report source."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from automations.alerts import Alert, AlertSink
from automations.deadlines import RegulatoryClocks
from automations.outcomes import OutcomeTracker
from automations.ports import Clock
from automations.reports.ports import ReportSource
from automations.reports.values import CostModel
from bot.composition import make_embedder, open_index
from bot.scheduler import JobSpec, SchedulerLock
from bot.settings import Settings
from store import SqlAuditTrail, SqlEventStore, SqlRegulatoryClocks, SqlReportSource
from store.queues import SqlOutbox

__all__ = ["Scheduled", "build_scheduler", "open_reporting", "open_reports"]


@contextlib.asynccontextmanager
async def open_reports(settings: Settings) -> AsyncIterator[ReportSource]:
    """The reports' source over the configured event store, for one CLI command (no model is loaded)."""
    async with open_reporting(settings) as (reports, _clocks):
        yield reports


@contextlib.asynccontextmanager
async def open_reporting(settings: Settings) -> AsyncIterator[tuple[ReportSource, RegulatoryClocks]]:
    """The reports' source and the regulatory clocks (transitions audited) over the configured event store."""
    store = await SqlEventStore.open(settings.db_url)
    try:
        yield SqlReportSource(store.engine), SqlRegulatoryClocks(store.engine, SqlAuditTrail(store.engine))
    finally:
        await store.close()


def qa_job(settings: Settings, store: SqlEventStore, sink: AlertSink, *, clock: Clock) -> JobSpec:
    """Score every closed conversation (5 minutes after its close), alerting the agent's manager on a critical
    fail (``AGENT_DIRECTORY`` names each agent's manager; without one the alert goes to the digest channel)."""
    from apscheduler.triggers.interval import IntervalTrigger

    from automations.qa.alerts import QaAlertSink
    from automations.qa.job import QaJob
    from bot.composition import build_qa_scorer  # defined after this module is imported by the package
    from store import SqlQaRecords

    job = QaJob(
        records=SqlQaRecords(store.engine), scorer=build_qa_scorer(settings), store=store,
        clock=clock, alerts=QaAlertSink(sink), managers=agent_managers(settings),
    )  # fmt: skip

    async def run(_now: object) -> int:
        scored = total = await job.run_once()
        while scored == job.batch:  # catch up after downtime, one batch at a time
            scored = await job.run_once()
            total += scored
        return total

    return JobSpec("qa_score", IntervalTrigger(minutes=5, start_date=clock.now()), run)


def qa_calibration_job(settings: Settings, store: SqlEventStore, *, clock: Clock) -> JobSpec:
    """Mondays 09:00 (``REPORT_TIMEZONE``): post a sample of last week's scored conversations to the managers'
    digest channel, each with grade buttons (``QA_CALIBRATION_SAMPLE`` conversations, 5 by default)."""
    from datetime import datetime

    from apscheduler.triggers.cron import CronTrigger

    from automations.qa.calibration import pick_sample
    from bot.slack.qa import calibration_action
    from store import SqlQaRecords

    records, outbox = SqlQaRecords(store.engine), SqlOutbox(store.engine)

    async def run(now: datetime) -> int:
        week = f"{now:%G-W%V}"
        scores = await records.scores(since=now - timedelta(days=7), until=now)
        sample = pick_sample(scores, size=settings.qa_calibration_sample, seed=int(now.strftime("%G%V")))
        actions = [calibration_action(s, await records.turns(s.conversation_id), week=week, clock=clock)
                   for s in sample]  # fmt: skip
        await outbox.enqueue(actions)
        return len(actions)

    trigger = CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=settings.report_timezone)
    return JobSpec("qa_calibration", trigger, run)


def agent_managers(settings: Settings) -> dict[str, str]:
    """Agent id → the manager's Slack user id, from ``AGENT_DIRECTORY`` (none without one: the digest channel)."""
    from automations.qa.directory import load_directory

    return dict(load_directory(settings.agent_directory_path).managers())


@dataclass
class Scheduled:
    """The scheduler process's jobs, its single-process lock, and what to release at exit."""

    specs: list[JobSpec]
    lock: SchedulerLock
    close: Callable[[], Awaitable[None]]


async def build_scheduler(settings: Settings, *, clock: Clock) -> Scheduled:
    """The jobs of ``autopilot scheduler``: outcomes, report facts, SLA, regulatory-clock and spike alerts, digests,
    the KB sync and the retention policy.

    Alerts go to Slack through the outbox when Slack is configured (the workers send them), else to the log.
    """
    from automations.obligations import load_obligations
    from automations.reports.benchmarks import load_benchmarks
    from automations.reports.okrs import load_okrs
    from bot.charts import render_chart
    from bot.scheduler import LogAlertSink, job_specs, scheduler_lock
    from bot.slack.wiring import slack_alert_sink
    from knowledge.ingest import ingest

    store = await SqlEventStore.open(settings.db_url)
    sink: AlertSink = slack_alert_sink(settings, SqlOutbox(store.engine), clock) or LogAlertSink()
    clocks = SqlRegulatoryClocks(store.engine, SqlAuditTrail(store.engine))
    rules = load_obligations(settings.obligations_path).rules
    warn_at = {rule.id: rule.warn_at for rule in rules if rule.warn_at}
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
        okrs=load_okrs(settings.okrs_path), benchmarks=load_benchmarks(settings.benchmarks_path), clocks=clocks,
        warn_at=warn_at,
    )  # fmt: skip
    specs.append(qa_job(settings, store, sink, clock=clock))
    if settings.slack_bot_token:
        specs.append(qa_calibration_job(settings, store, clock=clock))
    from bot.composition.privacy import retention_job

    retention = retention_job(settings, store, clock=clock)  # RETENTION_*_DAYS: texts, then identifiers
    if retention is not None:
        specs.append(retention)
    return Scheduled(specs, scheduler_lock(settings.db_url, store.engine), store.close)
