"""The reporting SQL over ``report_facts``, portable between SQLite and PostgreSQL.

These queries read the fact table directly (kept current by :func:`store.reports.facts.refresh_facts`): the
rollups (:mod:`store.reports.rollup`) are built from the same aggregates (:func:`fact_sums`), and a report reads
the facts only for the part of a period that no whole rollup bucket covers. Every query aggregates in the database
and returns a few hundred rows at most: the "cube" (contacts by driver, tier, source, action and effective outcome,
with their CSAT, SLA, first-response and repeat sums), the duration histograms and hourly counts. Only the
arithmetic on timestamps differs by dialect (:class:`SqlDialect`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.reports.ports import CubeRow, DurationRow, HourlyCount
from automations.reports.values import FRT_BUCKET_S, RES_BUCKET_S
from store.reports.tables import ReportFactRow
from store.sql import READONLY_OPTION
from store.tables import Base

__all__ = [
    "READONLY_OPTION",
    "SqlDialect",
    "agent_events",
    "contacts",
    "count_if",
    "decisions",
    "fact_cube",
    "fact_durations",
    "fact_sums",
    "facts",
    "feedback",
    "hourly_counts",
    "outcomes",
    "overdue",
    "reader",
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

    def truncate(self, column: Any, unit: str) -> ColumnElement[Any]:
        """A timestamp cut to the start of its UTC ``day`` or ``hour``, stored like the column itself."""
        if self.name == "sqlite":  # naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
            return func.strftime("%Y-%m-%d 00:00:00.000000" if unit == "day" else "%Y-%m-%d %H:00:00.000000", column)
        return func.timezone("UTC", func.date_trunc(unit, func.timezone("UTC", column)))


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """``SUM(CASE WHEN condition THEN 1 ELSE 0 END)``, never NULL."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _met(done: Any, due: Any) -> ColumnElement[bool]:
    return and_(facts.c.action == "handoff", due.is_not(None), done.is_not(None), done <= due)


def _late(done: Any, due: Any) -> ColumnElement[bool]:
    return and_(facts.c.action == "handoff", due.is_not(None), done.is_not(None), done > due)


def overdue(kind: str, now: datetime) -> ColumnElement[bool]:
    """An open ``fr`` (first response) or ``res`` (resolution) deadline already past at ``now``."""
    f = facts.c
    done, due = (f.fr_at, f.fr_due) if kind == "fr" else (f.closed_at, f.res_due)
    return and_(f.action == "handoff", due.is_not(None), done.is_(None), due < now)


def fact_sums(sql: SqlDialect) -> list[ColumnElement[Any]]:
    """The aggregates every rollup row keeps, over ``report_facts`` rows, in the order of
    :data:`store.reports.tables.ROLLUP_SUMS` followed by ``frt_s`` and ``latency_ms``."""
    f = facts.c
    responded = and_(f.action == "handoff", f.fr_at.is_not(None))
    return [
        func.count(),
        count_if(f.repeat),
        func.coalesce(func.sum(f.csat_n), 0),
        func.coalesce(func.sum(f.csat_sum), 0),
        func.coalesce(func.sum(f.csat_sat), 0),
        count_if(_met(f.fr_at, f.fr_due)),
        count_if(_late(f.fr_at, f.fr_due)),
        count_if(_met(f.closed_at, f.res_due)),
        count_if(_late(f.closed_at, f.res_due)),
        count_if(responded),
        func.coalesce(func.sum(case((responded, sql.seconds(f.fr_at, f.received_at)), else_=0.0)), 0.0),
        func.coalesce(func.sum(f.latency_ms), 0.0),
    ]


def cube_row(keys: Sequence[Any], sums: Sequence[Any], *, fr_open: int = 0, res_open: int = 0) -> CubeRow:
    """A :class:`CubeRow` from 7 key values and the values of :func:`fact_sums` (open overdue deadlines added)."""
    n, rep, csat_n, csat_sum, csat_sat, fr_met, fr_late, res_met, res_late, frt_n, frt_s, latency = sums
    return CubeRow(
        str(keys[0]), str(keys[1]), str(keys[2]), str(keys[3]), str(keys[4]), str(keys[5]), bool(keys[6]), int(n),
        float(latency or 0), int(rep or 0), int(frt_n or 0), float(frt_s or 0), int(csat_n or 0), int(csat_sum or 0),
        int(csat_sat or 0), int(fr_met or 0), int(fr_late or 0) + fr_open, int(res_met or 0),
        int(res_late or 0) + res_open,
    )  # fmt: skip


def _between(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(facts.c.decided_at >= start, facts.c.decided_at < end, facts.c.channel == "customer")


def effective_state(state: Any, decided_at: Any, now: datetime, resolve_after: timedelta) -> ColumnElement[str]:
    """``answered`` decided before ``now - resolve_after`` counts as ``resolved``."""
    cut = and_(state == "answered", decided_at < now - resolve_after)
    return case((cut, literal("resolved")), else_=state).label("state")


async def fact_cube(
    conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime, resolve_after: timedelta
) -> list[CubeRow]:
    """The cube of the customer contacts decided in ``[start, end)``, straight from ``report_facts``."""
    sql = SqlDialect(conn.dialect.name)
    f = facts.c
    state = effective_state(f.state, f.decided_at, now, resolve_after)
    keys = (f.category, f.group, f.tier, f.source, f.action, state, f.kb_gap)
    query = (
        select(*keys, *fact_sums(sql), count_if(overdue("fr", now)), count_if(overdue("res", now)))
        .where(_between(start, end))
        .group_by(*keys)
    )
    return [
        cube_row(r[:7], r[7:19], fr_open=int(r[19] or 0), res_open=int(r[20] or 0))
        for r in (await conn.execute(query)).all()
    ]


async def fact_durations(conn: AsyncConnection, start: datetime, end: datetime) -> list[DurationRow]:
    """First-response and resolution-time histograms of the hand-offs decided in ``[start, end)``."""
    sql = SqlDialect(conn.dialect.name)
    f = facts.c
    parts = []
    for metric, done, width in (("frt", f.fr_at, FRT_BUCKET_S), ("res", f.closed_at, RES_BUCKET_S)):
        seconds = sql.seconds(done, f.received_at)
        bucket = sql.bucket(seconds, width)
        parts.append(
            select(literal(metric), bucket, func.count(), func.sum(seconds))
            .where(_between(start, end), f.action == "handoff", done.is_not(None))
            .group_by(bucket)
        )
    rows = (await conn.execute(union_all(*parts))).all()
    return [DurationRow(str(r[0]), int(r[1]), int(r[2]), float(r[3] or 0.0)) for r in rows]


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
