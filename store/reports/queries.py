"""The reporting SQL, portable between SQLite and PostgreSQL.

The metrics queries read ``report_facts`` (kept current by :func:`store.reports.facts.refresh_facts`).
Every query aggregates in the database and returns a few hundred rows at most, whatever the number of contacts:
the per-period "cube" (counts by driver, tier, source, action and effective outcome), the CSAT cube, the hand-off
timing cube (SLA outcomes plus first-response and resolution-time histograms) and hourly counts. Only the
arithmetic on timestamps differs by dialect (:class:`SqlDialect`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.reports.periods import Period
from automations.reports.ports import CsatRow, CubeRow, HourlyCount, TimingRow
from automations.reports.values import FRT_BUCKET_S, RES_BUCKET_S
from store.reports.tables import ReportFactRow
from store.sql import READONLY_OPTION
from store.tables import Base

__all__ = [
    "READONLY_OPTION",
    "SqlDialect",
    "agent_events",
    "contacts",
    "csat_cube",
    "decisions",
    "facts",
    "feedback",
    "hourly_counts",
    "outcome_cube",
    "outcomes",
    "reader",
    "timing_cube",
]

contacts = Base.metadata.tables["contacts"]
decisions = Base.metadata.tables["decisions"]
outcomes = Base.metadata.tables["outcomes"]
feedback = Base.metadata.tables["feedback"]
agent_events = Base.metadata.tables["agent_events"]
facts = Base.metadata.tables[ReportFactRow.__tablename__]


def reader(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for read-only work: on SQLite, report queries then neither block nor wait for writers."""
    return engine.execution_options(**{READONLY_OPTION: True})


@dataclass(frozen=True, slots=True)
class SqlDialect:
    """Timestamp arithmetic for one backend."""

    name: str

    def seconds(self, later: Any, earlier: Any) -> ColumnElement[float]:
        """``later - earlier`` in seconds (SQLite stores naive UTC text; PostgreSQL ``timestamptz``)."""
        if self.name == "sqlite":
            return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)
        return cast(func.extract("epoch", later - earlier), Float)

    def bucket(self, seconds: ColumnElement[float], width: int) -> ColumnElement[int]:
        """``floor(seconds / width)`` as an integer (negative durations land in bucket 0)."""
        value = func.max(seconds, 0.0) if self.name == "sqlite" else func.greatest(seconds, 0.0)
        if self.name == "sqlite":  # CAST truncates, which is floor for non-negative values
            return cast(value / width, Integer)
        return cast(func.floor(value / width), Integer)

    def hour(self, column: Any) -> ColumnElement[str]:
        """The UTC hour of a timestamp as text ``YYYY-MM-DD HH``."""
        if self.name == "sqlite":
            return func.strftime("%Y-%m-%d %H", column)
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def _in_period(period: Period) -> ColumnElement[bool]:
    return and_(facts.c.decided_at >= period.start, facts.c.decided_at < period.end, facts.c.channel == "customer")


async def outcome_cube(
    conn: AsyncConnection, period: Period, *, now: datetime, resolve_after: timedelta
) -> list[CubeRow]:
    """Contacts decided in ``period`` by driver/tier/source/action/effective state (from ``report_facts``).

    The effective state counts an ``answered`` outcome older than ``resolve_after`` as ``resolved`` (what the
    finalize job will make of it), so figures do not depend on when that job last ran.
    """
    state = case(
        (and_(facts.c.state == "answered", facts.c.decided_at < now - resolve_after), literal("resolved")),
        else_=facts.c.state,
    ).label("state")
    keys = (facts.c.category, facts.c.group, facts.c.tier, facts.c.source, facts.c.action, state, facts.c.kb_gap)
    query = (
        select(
            *keys,
            func.count().label("n"),
            func.coalesce(func.sum(facts.c.latency_ms), 0.0),
            func.coalesce(func.sum(case((facts.c.repeat, 1), else_=0)), 0),
        )
        .where(_in_period(period))
        .group_by(*keys)
    )
    rows = (await conn.execute(query)).all()
    return [CubeRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), int(r[7]), float(r[8]), int(r[9])) for r in rows]


async def csat_cube(conn: AsyncConnection, period: Period) -> list[CsatRow]:
    """CSAT responses (1..5) given on contacts decided in ``period``."""
    keys = (facts.c.category, facts.c.group, facts.c.tier, facts.c.source, facts.c.action)
    query = (
        select(*keys, func.sum(facts.c.csat_n), func.sum(facts.c.csat_sum), func.sum(facts.c.csat_sat))
        .where(_in_period(period), facts.c.csat_n > 0)
        .group_by(*keys)
    )
    rows = (await conn.execute(query)).all()
    return [CsatRow(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6] or 0), int(r[7] or 0)) for r in rows]


def _deadline_state(done: Any, due: Any, now: datetime) -> Any:
    return case(
        (due.is_(None), literal("none")),
        (and_(done.is_(None), due < now), literal("missed")),
        (done.is_(None), literal("pending")),
        (done <= due, literal("met")),
        else_=literal("missed"),
    )


async def timing_cube(conn: AsyncConnection, period: Period, *, now: datetime) -> list[TimingRow]:
    """SLA outcomes and duration histograms of the hand-offs decided in ``period``.

    First response = the first ``first_response`` agent event; resolution = the first ``closed`` event; both
    measured from ``contacts.received_at``. A deadline with no event yet is ``missed`` once it has passed and
    ``pending`` before.
    """
    sql = SqlDialect(conn.dialect.name)
    h = select(facts).where(_in_period(period), facts.c.action == "handoff").cte("h")
    fr_state = _deadline_state(h.c.fr_at, h.c.fr_due, now)
    res_state = _deadline_state(h.c.closed_at, h.c.res_due, now)
    fr_s = sql.seconds(h.c.fr_at, h.c.received_at)
    res_s = sql.seconds(h.c.closed_at, h.c.received_at)
    zero = literal(0)
    sla = select(literal("sla"), h.c.tier, fr_state, res_state, zero, func.count(), literal(0.0)).group_by(
        h.c.tier, fr_state, res_state
    )
    frt_bucket = sql.bucket(fr_s, FRT_BUCKET_S)
    frt = (
        select(literal("frt"), h.c.tier, literal(""), literal(""), frt_bucket, func.count(), func.sum(fr_s))
        .where(h.c.fr_at.is_not(None))
        .group_by(h.c.tier, frt_bucket)
    )
    res_bucket = sql.bucket(res_s, RES_BUCKET_S)
    res = (
        select(literal("res"), h.c.tier, literal(""), literal(""), res_bucket, func.count(), func.sum(res_s))
        .where(h.c.closed_at.is_not(None))
        .group_by(h.c.tier, res_bucket)
    )
    rows = (await conn.execute(union_all(sla, frt, res))).all()
    return [TimingRow(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), float(r[6] or 0.0)) for r in rows]


async def hourly_counts(
    conn: AsyncConnection, windows: Sequence[tuple[datetime, datetime]], *, by_category: bool = False
) -> list[HourlyCount]:
    """Customer contacts per UTC hour in any of ``windows``, by action (and category when ``by_category``;
    else the key is ``""``)."""
    if not windows:
        return []
    sql = SqlDialect(conn.dialect.name)
    hour = sql.hour(facts.c.decided_at).label("hour")
    key = facts.c.category if by_category else literal("")
    where = or_(*(and_(facts.c.decided_at >= start, facts.c.decided_at < end) for start, end in windows))
    query = (
        select(hour, key, facts.c.action, func.count())
        .where(where, facts.c.channel == "customer")
        .group_by(hour, key, facts.c.action)
    )
    return [
        HourlyCount(datetime.strptime(str(r[0]), "%Y-%m-%d %H").replace(tzinfo=UTC), str(r[1]), str(r[2]), int(r[3]))
        for r in (await conn.execute(query)).all()
    ]
