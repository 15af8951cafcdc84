"""The rollups of ``report_facts`` (by UTC day for the period cube and duration histograms, by UTC hour for the daily
series): their incremental upkeep, and the reads a report makes of them.

A rollup bucket is a pure function of the fact rows decided in it, so the refresh recomputes exactly the days of
the contacts it touched (:func:`refresh_rollups`). Whatever depends on when a report asks is kept out of the
rollups or kept exact: answers still ``answered`` keep their exact decision time as their bucket (the report decides
which of them the resolve window has closed on), and open SLA deadlines are not in the rollups at all; the reads
count the ones already past due straight from the facts, through partial indexes that hold only open deadlines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, insert, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from automations.reports.ports import CubeRow, DurationRow, HourFigures
from automations.reports.values import FRT_BUCKET_S, RES_BUCKET_S
from store.reports.queries import (
    SqlDialect,
    count_if,
    cube_row,
    effective_state,
    fact_sums,
    facts,
    overdue,
)
from store.reports.series import to_figures
from store.reports.tables import ROLLUP_SUMS, report_daily, report_durations, report_hourly

__all__ = [
    "DAY",
    "HOUR",
    "days_of",
    "open_cube",
    "open_hours",
    "refresh_rollups",
    "rollup_cube",
    "rollup_durations",
    "rollup_hours",
]

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
_SUM_COLUMNS = [*ROLLUP_SUMS, "frt_s", "latency_ms"]
_KEYS = ("category", "group", "tier", "source", "action", "state", "kb_gap")


def _bucket(sql: SqlDialect, unit: str) -> Any:
    """Day (or hour) of the decision, or its exact time while the answer is still ``answered``."""
    f = facts.c
    return case((f.state == "answered", f.decided_at), else_=sql.truncate(f.decided_at, unit))


def _days_where(days: Sequence[datetime] | None) -> Any:
    customer = facts.c.channel == "customer"
    if days is None:
        return customer
    ranges = [and_(facts.c.decided_at >= d, facts.c.decided_at < d + DAY) for d in days]
    return and_(customer, or_(*ranges))


def _daily(sql: SqlDialect, where: Any) -> Select[Any]:
    bucket = _bucket(sql, "day")
    keys = [getattr(facts.c, k) for k in _KEYS]
    return select(bucket, *keys, *fact_sums(sql)).where(where).group_by(bucket, *keys)


def _hourly(sql: SqlDialect, where: Any) -> Select[Any]:
    bucket = _bucket(sql, "hour")
    return (
        select(bucket, facts.c.action, facts.c.state, *fact_sums(sql))
        .where(where)
        .group_by(bucket, facts.c.action, facts.c.state)
    )


def _durations(sql: SqlDialect, where: Any) -> Any:
    f, day = facts.c, sql.truncate(facts.c.decided_at, "day")
    parts = []
    for metric, done, width in (("frt", f.fr_at, FRT_BUCKET_S), ("res", f.closed_at, RES_BUCKET_S)):
        seconds = sql.seconds(done, f.received_at)
        bucket = sql.bucket(seconds, width)
        parts.append(
            select(day, literal(metric), bucket, func.count(), func.sum(seconds))
            .where(where, f.action == "handoff", done.is_not(None))
            .group_by(day, bucket)
        )
    return union_all(*parts)


async def refresh_rollups(conn: AsyncConnection, days: Sequence[datetime] | None) -> None:
    """Recompute the rollups of the UTC ``days`` (their midnights), or all of them (``None``), from the facts."""
    sql = SqlDialect(conn.dialect.name)
    for chunk in [None] if days is None else [days[i : i + 50] for i in range(0, len(days), 50)]:
        where = _days_where(chunk)
        for table, column in ((report_daily, "bucket"), (report_hourly, "bucket"), (report_durations, "day")):
            if chunk is None:
                await conn.execute(delete(table))
            else:
                col = table.c[column]
                await conn.execute(delete(table).where(or_(*(and_(col >= d, col < d + DAY) for d in chunk))))
        await conn.execute(insert(report_daily).from_select(["bucket", *_KEYS, *_SUM_COLUMNS], _daily(sql, where)))
        await conn.execute(
            insert(report_hourly).from_select(["bucket", "action", "state", *_SUM_COLUMNS], _hourly(sql, where))
        )
        await conn.execute(
            insert(report_durations).from_select(
                ["day", "metric", "bucket", "count", "total_s"], _durations(sql, where)
            )
        )


def days_of(moments: Iterable[datetime]) -> list[datetime]:
    """The distinct UTC midnights of ``moments``, sorted."""
    found: set[date] = {m.astimezone(UTC).date() for m in moments}
    return [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in sorted(found)]


# --- reads --------------------------------------------------------------------------------------------------------


async def rollup_cube(
    conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime, resolve_after: timedelta
) -> list[CubeRow]:
    """The cube of the whole UTC days ``[start, end)`` from ``report_daily`` (open deadlines not included)."""
    d = report_daily.c
    state = effective_state(d.state, d.bucket, now, resolve_after)
    keys = (d.category, d.group, d.tier, d.source, d.action, state, d.kb_gap)
    sums = [func.sum(d[name]) for name in _SUM_COLUMNS]
    query = select(*keys, *sums).where(d.bucket >= start, d.bucket < end).group_by(*keys)
    return [cube_row(r[:7], r[7:]) for r in (await conn.execute(query)).all()]


async def open_cube(conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime) -> list[CubeRow]:
    """Open deadlines already past at ``now`` of the hand-offs decided in ``[start, end)``, as cube rows with no
    contacts (one query per deadline kind, each answered from its partial index)."""
    f = facts.c
    keys = (f.category, f.group, f.tier, f.source, f.action, f.state, f.kb_gap)
    rows: list[CubeRow] = []
    for kind, done, due in (("fr", f.fr_at, f.fr_due), ("res", f.closed_at, f.res_due)):
        query = (
            select(*keys, count_if(overdue(kind, now)))
            .where(done.is_(None), due.is_not(None), f.decided_at >= start, f.decided_at < end, f.channel == "customer")
            .group_by(*keys)
        )
        for r in (await conn.execute(query)).all():
            zero = [0] * 12
            missed = int(r[7] or 0)
            if missed:
                rows.append(cube_row(r[:7], zero, fr_open=missed if kind == "fr" else 0,
                                     res_open=missed if kind == "res" else 0))  # fmt: skip
    return rows


async def rollup_durations(conn: AsyncConnection, start: datetime, end: datetime) -> list[DurationRow]:
    """The duration histograms of the whole UTC days ``[start, end)`` from ``report_durations``."""
    d = report_durations.c
    query = (
        select(d.metric, d.bucket, func.sum(d.count), func.sum(d.total_s))
        .where(d.day >= start, d.day < end)
        .group_by(d.metric, d.bucket)
    )
    return [DurationRow(str(r[0]), int(r[1]), int(r[2]), float(r[3] or 0)) for r in (await conn.execute(query)).all()]


async def rollup_hours(
    conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime, resolve_after: timedelta
) -> list[HourFigures]:
    """Figures of the whole UTC hours ``[start, end)`` from ``report_hourly`` (open deadlines not included)."""
    sql = SqlDialect(conn.dialect.name)
    h = report_hourly.c
    hour = sql.hour(h.bucket).label("hour")
    answer = h.action == "answer"
    resolved = or_(h.state == "resolved", and_(h.state == "answered", h.bucket < now - resolve_after))
    settled = or_(resolved, h.state.in_(("escalated", "reopened")))

    def when(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, h.contacts), else_=0)), 0)

    query = (
        select(
            hour, func.sum(h.contacts), when(answer), when(and_(answer, resolved)), when(and_(answer, settled)),
            func.sum(h.repeats), func.sum(h.csat_n), func.sum(h.csat_sum), func.sum(h.csat_sat),
            func.sum(h.fr_met + h.res_met), func.sum(h.fr_late + h.res_late), func.sum(h.frt_n), func.sum(h.frt_s),
        )
        .where(h.bucket >= start, h.bucket < end)
        .group_by(hour)
    )  # fmt: skip
    return [to_figures(r) for r in (await conn.execute(query)).all()]


async def open_hours(conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime) -> dict[datetime, int]:
    """Open deadlines already past at ``now`` of the hand-offs decided in ``[start, end)``, by UTC hour."""
    sql = SqlDialect(conn.dialect.name)
    f = facts.c
    hour = sql.hour(f.decided_at)
    found: dict[datetime, int] = {}
    for kind, done, due in (("fr", f.fr_at, f.fr_due), ("res", f.closed_at, f.res_due)):
        query = (
            select(hour, count_if(overdue(kind, now)))
            .where(done.is_(None), due.is_not(None), f.decided_at >= start, f.decided_at < end, f.channel == "customer")
            .group_by(hour)
        )
        for r in (await conn.execute(query)).all():
            moment = datetime.strptime(str(r[0]), "%Y-%m-%d %H").replace(tzinfo=UTC)
            found[moment] = found.get(moment, 0) + int(r[1] or 0)
    return found
