"""The composition root's wiring of data-subject rights and retention: :class:`~automations.privacy.Privacy` over
the SQL stores (the event store's database and the inbox's own, when it has one), with the regulatory clocks and
the audit trail, for the ``autopilot privacy`` commands and the scheduler's retention job."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.clocks import SystemClock
from automations.ports import Clock
from automations.privacy import Privacy, Purge, RetentionPolicy
from bot.scheduler import JobSpec
from bot.settings import Settings
from store import SqlAuditTrail, SqlEventStore, SqlRegulatoryClocks
from store.privacy import SqlDataSubjectStore

__all__ = ["build_privacy", "open_inbox_engine", "open_privacy", "retention_job", "retention_policy"]

log = logging.getLogger("autopilot.privacy")


def retention_policy(settings: Settings) -> RetentionPolicy:
    """``RETENTION_TEXT_DAYS`` and ``RETENTION_IDENTIFIERS_DAYS`` (0 or unset: kept)."""
    return RetentionPolicy(settings.retention_text_days, settings.retention_identifiers_days)


def build_privacy(
    settings: Settings, store: SqlEventStore, *, clock: Clock, inbox_engine: AsyncEngine | None = None
) -> Privacy:
    """Exports, erasures and retention over ``store`` (and the inbox at ``inbox_engine``), audited, with the
    customer's ``privacy_request`` clocks stopped."""
    audit = SqlAuditTrail(store.engine)
    return Privacy(
        SqlDataSubjectStore(store.engine, inbox_engine=inbox_engine), audit, clock,
        clocks=SqlRegulatoryClocks(store.engine, audit), policy=retention_policy(settings),
    )  # fmt: skip


@contextlib.asynccontextmanager
async def open_inbox_engine(settings: Settings) -> AsyncIterator[AsyncEngine | None]:
    """The inbox's own database while in use (``None`` where the inbox shares the event store's)."""
    if not settings.inbox_db_url:
        yield None
        return
    inbox = await SqlEventStore.open(settings.inbox_db_url)
    try:
        yield inbox.engine
    finally:
        await inbox.close()


@contextlib.asynccontextmanager
async def open_privacy(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Privacy]:
    """:func:`build_privacy` over the configured databases, for one CLI command (no model is loaded)."""
    store = await SqlEventStore.open(settings.db_url)
    try:
        async with open_inbox_engine(settings) as inbox:
            yield build_privacy(settings, store, clock=clock or SystemClock(), inbox_engine=inbox)
    finally:
        await store.close()


def retention_job(settings: Settings, store: SqlEventStore, *, clock: Clock) -> JobSpec | None:
    """The nightly retention run (03:30 in ``REPORT_TIMEZONE``), or ``None`` when the policy keeps everything."""
    if not retention_policy(settings).active:
        return None

    async def run(now: datetime) -> Purge:
        async with open_inbox_engine(settings) as inbox:
            purge = await build_privacy(settings, store, clock=clock, inbox_engine=inbox).retain(now)
        log.info(
            "retention: texts of %d contacts removed, identifiers of %d anonymised, %d held",
            purge.texts, purge.identifiers, len(purge.held),
        )  # fmt: skip
        return purge

    return JobSpec("retention", CronTrigger(hour=3, minute=30, timezone=settings.report_timezone), run)
