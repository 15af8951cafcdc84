"""Scheduled jobs under a settable clock, and the one-process guard (file lock on SQLite, advisory lock on PG)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import create_async_engine

from automations.alerts import RecordingAlertSink
from automations.conversations import AgentEvent, AgentEventKind
from automations.fakes import SettableClock
from automations.models import OutcomeState
from automations.outcomes import OutcomeTracker
from automations.reports.sla import sla_alerts, sla_nearest_breach
from bot.scheduler import JobSpec, Ticker, job_specs, run_scheduler, scheduler_lock
from store import SqlEventStore, SqlReportSource, normalize_url
from store.conversations import SqlConversations
from tests.test_metrics import answer, handoff

H = timedelta(hours=1)


def keys(sink: RecordingAlertSink) -> set[str]:
    return {a.key for a in sink.alerts}


async def test_jobs_fire_on_the_settable_clock(store: SqlEventStore) -> None:
    clock = SettableClock()  # Monday 2026-11-02 09:00 UTC
    t0 = clock.now()
    await store.record_decisions(
        [
            handoff("h1", "card_arrival", "t1", t0, first=H, resolve=24 * H),
            handoff("h2", "exchange_rate", "t1", t0, first=H, resolve=24 * H),
            answer("a1", "card_arrival", t0),
        ]
    )
    sink = RecordingAlertSink()
    tracker = OutcomeTracker(store)
    charts: list[str] = []
    specs = job_specs(reports=SqlReportSource(store.engine), tracker=tracker, sink=sink, start=t0,
                      chart=lambda r: charts.append(r.period.label) or b"png")  # fmt: skip
    ticker = Ticker(specs, since=t0)
    conversations = SqlConversations(store.engine)

    async def at(offset: timedelta) -> None:
        clock.advance(t0 + offset - clock.now())
        await ticker.advance_to(clock.now())

    await at(timedelta(minutes=30))
    await conversations.record_agent_event(AgentEvent("h2", AgentEventKind.FIRST_RESPONSE, clock.now()))
    await at(timedelta(minutes=47))
    assert sink.alerts == []
    await at(timedelta(minutes=48))  # 80 % of the one-hour first-response window
    assert keys(sink) == {"sla:h1:first_response:80"}
    await at(timedelta(minutes=59))
    assert len(sink.alerts) == 1  # the job ran eleven more times; nothing new, nothing repeated
    await at(timedelta(minutes=60))
    assert keys(sink) == {"sla:h1:first_response:80", "sla:h1:first_response:breach"}
    breach = sink.of_kind("sla_breach")[0]
    assert (breach.tier, breach.thread_of) == ("t1", "h1")
    await conversations.record_agent_event(AgentEvent("h2", AgentEventKind.CLOSED, t0 + 11 * H))
    await at(23 * H)  # 80 % of the 24 h resolution window passed at 19.2 h, and the daily digest at 08:00
    assert "sla:h1:resolution:80" in keys(sink) and "sla:h2:resolution:80" not in keys(sink)
    assert [a.key for a in sink.of_kind("digest_daily")] == ["digest:daily:2026-11-02"]
    digest = sink.of_kind("digest_daily")[0]
    assert digest.image_png == b"png" and "3 contacts" in digest.text
    assert (await store.get_outcome("a1")).state is OutcomeState.ANSWERED  # type: ignore[union-attr]
    await at(24 * H + timedelta(minutes=15))  # the finalize job runs every 15 minutes
    assert (await store.get_outcome("a1")).state is OutcomeState.RESOLVED  # type: ignore[union-attr]
    assert "sla:h1:resolution:breach" in keys(sink)
    assert sink.of_kind("spike") == [] and sink.of_kind("digest_weekly") == []
    runs = [job for job, _ in ticker.runs]
    assert runs.count("digest_daily") == 1 and runs.count("spike_alerts") == 25
    assert runs.count("sla_alerts") == 24 * 60 + 15 + 1
    # each alert was offered again for at most the 15-minute grace window (the sink keeps one per key)
    assert 0 < sink.duplicates <= 15 * len(sink.of_kind("sla_warning") + sink.of_kind("sla_breach"))
    digests = Ticker([s for s in specs if s.id.startswith("digest")], since=clock.now())
    await digests.advance_to(t0 + 8 * 24 * H)  # to next Monday, digests only (not 11,000 runs of the SLA job)
    assert [a.key for a in sink.of_kind("digest_weekly")] == ["digest:weekly:2026-11-02"]
    assert [job for job, _ in digests.runs].count("digest_daily") == 7


async def test_legal_and_compliance_deadlines_are_alerted(store: SqlEventStore) -> None:
    t0 = SettableClock().now()
    await store.record_decision(handoff("l1", "legal_request", "legal", t0, first=2 * H, resolve=timedelta(days=5)))
    conversations = SqlConversations(store.engine)
    await conversations.record_agent_event(AgentEvent("l1", AgentEventKind.FIRST_RESPONSE, t0 + H))
    sink = RecordingAlertSink()
    reports = SqlReportSource(store.engine)
    await sla_alerts(reports, sink, t0 + timedelta(days=3))
    assert sink.alerts == []
    await sla_alerts(reports, sink, t0 + timedelta(days=4, minutes=1))
    await sla_alerts(reports, sink, t0 + timedelta(days=5, minutes=1))
    assert [a.key for a in sink.alerts] == ["sla:l1:resolution:80", "sla:l1:resolution:breach"]
    assert all(a.title.startswith("Regulatory deadline") and a.tier == "legal" for a in sink.alerts)
    nearest = await sla_nearest_breach(reports, t0 + timedelta(days=4), limit=5)
    assert [(d.contact_id, d.kind) for d in nearest] == [("l1", "resolution")]
    assert nearest[0].remaining_s == pytest.approx(86400) and nearest[0].elapsed_fraction == pytest.approx(0.8)


async def test_only_one_process_holds_the_scheduler_lock(store_url: str, store: SqlEventStore) -> None:
    other = create_async_engine(normalize_url(store_url))
    try:
        first, second = scheduler_lock(store_url, store.engine), scheduler_lock(store_url, other)
        assert await first.acquire()
        assert not await second.acquire()
        await first.release()
        assert await second.acquire()
        assert not await first.acquire()
        await second.release()
    finally:
        await other.dispose()


async def test_standby_scheduler_never_runs_the_jobs(store_url: str, store: SqlEventStore) -> None:
    other = create_async_engine(normalize_url(store_url))
    ran: dict[str, int] = {"a": 0, "b": 0}

    def spec(name: str) -> JobSpec:
        async def job(_now: datetime) -> None:
            ran[name] += 1

        return JobSpec("tick", IntervalTrigger(seconds=0.2), job)

    clock = SettableClock()
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    try:
        a = asyncio.create_task(run_scheduler([spec("a")], scheduler_lock(store_url, store.engine), clock, stop_a))
        await asyncio.sleep(0.3)
        b = asyncio.create_task(
            run_scheduler([spec("b")], scheduler_lock(store_url, other), clock, stop_b, standby_poll_s=0.1)
        )
        await asyncio.sleep(1.0)
        assert ran["a"] >= 2 and ran["b"] == 0
        stop_a.set()
        assert await a is True
        await asyncio.sleep(0.8)  # the standby takes over
        assert ran["b"] >= 1
        stop_b.set()
        assert await b is True
    finally:
        stop_a.set()
        stop_b.set()
        await other.dispose()
