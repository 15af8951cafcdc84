"""``autopilot scheduler``: the one APScheduler process, and the jobs it runs.

Only one process may run the jobs: it takes a PostgreSQL session advisory lock (``pg_try_advisory_lock``) or, on
SQLite, an exclusive file lock next to the database file, and holds it for its lifetime; a second process waits as a
standby and takes over when the first one exits. Jobs get the time from a :class:`~automations.ports.Clock`, so the
same job specs run under the real :class:`~apscheduler.schedulers.asyncio.AsyncIOScheduler` and under
:class:`Ticker`, which fires them from a settable clock (tests, replays).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from filelock import FileLock, Timeout
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.alerts import Alert, AlertSink
from automations.deadlines import RegulatoryClocks
from automations.outcomes import OutcomeTracker
from automations.ports import Clock
from automations.reports.benchmarks import BenchmarkFile
from automations.reports.clocks import clock_alerts
from automations.reports.jobs import send_digest, spike_alerts
from automations.reports.metrics import CostModel
from automations.reports.narrative import Report
from automations.reports.okrs import OkrFile
from automations.reports.ports import ReportSource
from automations.reports.sla import sla_alerts
from bot.settings import Settings
from store.migrate import normalize_url

__all__ = [
    "SCHEDULER_LOCK_KEY", "AdvisoryLock", "JobSpec", "LogAlertSink", "SchedulerLock", "SqliteFileLock", "Ticker",
    "describe", "job_specs", "run_scheduler", "scheduler_lock", "serve_scheduler",
]  # fmt: skip

log = logging.getLogger("autopilot.scheduler")
SCHEDULER_LOCK_KEY = 0x41505343  # "APSC"
Job = Callable[[datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One scheduled job: an id, an APScheduler trigger and a coroutine taking the fire time."""

    id: str
    trigger: BaseTrigger
    run: Job


class SchedulerLock(Protocol):
    """Process-wide guard: only its holder runs the jobs."""

    async def acquire(self) -> bool:
        """Try once to take the lock; ``True`` when this process now holds it."""
        ...

    async def release(self) -> None:
        """Give the lock back (idempotent)."""
        ...


class AdvisoryLock:
    """PostgreSQL session advisory lock, held on a dedicated connection for as long as the process runs."""

    def __init__(self, engine: AsyncEngine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._engine, self._key = engine, key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """``pg_try_advisory_lock``: never waits."""
        if self._conn is not None:
            return True
        conn = await self._engine.connect()
        got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}))
        await conn.commit()  # the session lock outlives the transaction; do not sit idle in one
        if got:
            self._conn = conn
        else:
            await conn.close()
        return got

    async def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            await conn.commit()
        finally:
            await conn.close()


class SqliteFileLock:
    """Exclusive lock on ``<database>.scheduler.lock`` (``flock``: released by the OS if the process dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path, thread_local=False)

    async def acquire(self) -> bool:
        """Try the lock without waiting."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    async def release(self) -> None:
        """Release it if held."""
        if self._lock.is_locked:
            self._lock.release(force=True)


def scheduler_lock(url: str, engine: AsyncEngine) -> SchedulerLock:
    """The right lock for the database at ``url``."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(engine)
    database = parsed.database or ""
    if not database or database == ":memory:":
        raise ValueError("the scheduler needs a file-backed SQLite database or PostgreSQL")
    return SqliteFileLock(Path(database).with_name(Path(database).name + ".scheduler.lock"))


class LogAlertSink:
    """Fallback sink that only logs (when no Slack sink is configured); remembers keys to stay idempotent."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    async def send(self, alert: Alert) -> None:
        """Log the alert once per key."""
        if alert.key not in self._seen:
            self._seen.add(alert.key)
            log.warning("alert %s: %s", alert.key, alert.title)


def job_specs(
    *,
    reports: ReportSource,
    tracker: OutcomeTracker,
    sink: AlertSink,
    start: datetime,
    tz: str = "UTC",
    costs: CostModel | None = None,
    chart: Callable[[Report], bytes] | None = None,
    kb_sync: Callable[[], Awaitable[object]] | None = None,
    okrs: OkrFile | None = None,
    benchmarks: BenchmarkFile | None = None,
    clocks: RegulatoryClocks | None = None,
    warn_at: Mapping[str, Sequence[float]] | None = None,
) -> list[JobSpec]:
    """The scheduled jobs; interval jobs count from ``start`` (the clock's now), cron jobs use ``tz``. Digests show
    progress against ``okrs`` and the ``benchmarks`` when given. With ``clocks``, the ``regulatory_clocks`` job
    detects breaches (and warns at each rule's ``warn_at`` shares), SLA alerts use a regulatory deadline tighter than
    the tier's SLA, and digests report the period's regulatory deadlines."""
    costs = costs or CostModel()

    async def digest(kind: str, now: datetime) -> object:
        return await send_digest(
            reports, sink, now, kind="daily" if kind == "daily" else "weekly", tz=tz, costs=costs, chart=chart,
            okrs=okrs, benchmarks=benchmarks, clocks=clocks,
        )  # fmt: skip

    async def kb(_now: datetime) -> object:
        return await kb_sync() if kb_sync is not None else None

    specs = [
        JobSpec("finalize_outcomes", IntervalTrigger(minutes=15, start_date=start), tracker.finalize),
        JobSpec("refresh_facts", IntervalTrigger(minutes=1, start_date=start), lambda _now: reports.refresh()),
        JobSpec(
            "sla_alerts",
            IntervalTrigger(minutes=1, start_date=start),
            lambda now: sla_alerts(reports, sink, now, clocks=clocks),
        ),
        JobSpec("spike_alerts", CronTrigger(minute=5, timezone="UTC"), lambda now: spike_alerts(reports, sink, now)),
        JobSpec("digest_daily", CronTrigger(hour=8, minute=0, timezone=tz), lambda now: digest("daily", now)),
        JobSpec(
            "digest_weekly",
            CronTrigger(day_of_week="mon", hour=8, minute=5, timezone=tz),
            lambda now: digest("weekly", now),
        ),
    ]
    if clocks is not None:
        specs.append(
            JobSpec(
                "regulatory_clocks",
                IntervalTrigger(minutes=1, start_date=start),
                lambda now: clock_alerts(clocks, sink, now, warn_at=warn_at),
            )
        )
    if kb_sync is not None:
        specs.append(JobSpec("kb_sync", CronTrigger(hour=2, minute=30, timezone=tz), kb))
    return specs


class Ticker:
    """Fires job specs from an explicit clock: each job runs once per fire time its trigger yields up to now."""

    def __init__(self, specs: Sequence[JobSpec], since: datetime) -> None:
        self._specs = list(specs)
        self._next: dict[str, datetime | None] = {s.id: s.trigger.get_next_fire_time(None, since) for s in specs}
        self.runs: list[tuple[str, datetime]] = []

    async def advance_to(self, now: datetime) -> list[str]:
        """Run everything due at or before ``now``, in fire-time order; returns the job ids run."""
        ran = []
        while True:
            due = [(t, s) for s in self._specs if (t := self._next[s.id]) is not None and t <= now]
            if not due:
                return ran
            fire, spec = min(due, key=lambda pair: pair[0])
            await spec.run(fire)
            self.runs.append((spec.id, fire))
            ran.append(spec.id)
            self._next[spec.id] = spec.trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))


def _wrap(spec: JobSpec, clock: Clock) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await spec.run(clock.now())
        except Exception:
            log.exception("scheduled job %s failed", spec.id)

    return run


async def run_scheduler(
    specs: Sequence[JobSpec], lock: SchedulerLock, clock: Clock, stop: asyncio.Event, *, standby_poll_s: float = 15.0
) -> bool:
    """Wait for the lock (standby), then run the jobs on an AsyncIOScheduler until ``stop`` is set.

    Returns ``True`` if this process ran the jobs, ``False`` if it was stopped while on standby.
    """
    while not await lock.acquire():
        log.info("another scheduler holds the lock; standing by (retrying every %.0fs)", standby_poll_s)
        try:
            await asyncio.wait_for(stop.wait(), timeout=standby_poll_s)
            return False
        except TimeoutError:
            continue
    scheduler = AsyncIOScheduler(timezone="UTC")
    for spec in specs:
        scheduler.add_job(
            _wrap(spec, clock), spec.trigger, id=spec.id, max_instances=1, coalesce=True, misfire_grace_time=300
        )
    scheduler.start()
    log.info("holding the scheduler lock: running %d jobs", len(specs))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await lock.release()
    return True


def describe(specs: Sequence[JobSpec], now: datetime) -> list[dict[str, Any]]:
    """Each job's id, trigger and next fire time after ``now`` (for ``autopilot scheduler --list``)."""
    return [
        {"id": s.id, "trigger": str(s.trigger), "next": str(s.trigger.get_next_fire_time(None, now))} for s in specs
    ]


async def serve_scheduler(settings: Settings, *, stop: asyncio.Event | None = None) -> bool:
    """The ``autopilot scheduler`` process: wire the jobs (:func:`bot.composition.build_scheduler`) and run them
    until SIGINT/SIGTERM. Returns whether this process held the lock and ran them."""
    import signal

    from bot.composition import SystemClock, build_scheduler

    clock = SystemClock()
    scheduled = await build_scheduler(settings, clock=clock)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await run_scheduler(scheduled.specs, scheduled.lock, clock, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await scheduled.close()
