"""The daily trend series' SQL: the headline figures of each UTC hour (from ``report_facts``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from automations.reports.ports import HourFigures
from store.reports.queries import SqlDialect, facts

__all__ = ["fact_hour_columns", "hourly_figures", "to_figures"]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def fact_hour_columns(sql: SqlDialect, *, now: datetime, resolve_after: timedelta) -> list[ColumnElement[Any]]:
    """Aggregates of :class:`HourFigures` (after ``hour``) over ``report_facts`` rows, in field order."""
    f = facts.c
    answer, handoff = f.action == "answer", f.action == "handoff"
    resolved = or_(f.state == "resolved", and_(f.state == "answered", f.decided_at < now - resolve_after))
    settled = or_(resolved, f.state.in_(("escalated", "reopened")))

    def met(done: Any, due: Any) -> ColumnElement[bool]:
        return and_(handoff, due.is_not(None), done.is_not(None), done <= due)

    def missed(done: Any, due: Any) -> ColumnElement[bool]:
        return and_(handoff, due.is_not(None), or_(done > due, and_(done.is_(None), due < now)))

    return [
        func.count(),
        _count(answer),
        _count(and_(answer, resolved)),
        _count(and_(answer, settled)),
        _count(f.repeat),
        func.coalesce(func.sum(f.csat_n), 0),
        func.coalesce(func.sum(f.csat_sum), 0),
        func.coalesce(func.sum(f.csat_sat), 0),
        _count(met(f.fr_at, f.fr_due)) + _count(met(f.closed_at, f.res_due)),
        _count(missed(f.fr_at, f.fr_due)) + _count(missed(f.closed_at, f.res_due)),
        _count(and_(handoff, f.fr_at.is_not(None))),
        func.coalesce(func.sum(case((and_(handoff, f.fr_at.is_not(None)), sql.seconds(f.fr_at, f.received_at)))), 0),
    ]


def to_figures(row: Any) -> HourFigures:
    """A result row ``(hour text, *aggregates)`` as :class:`HourFigures`."""
    hour = datetime.strptime(str(row[0]), "%Y-%m-%d %H").replace(tzinfo=UTC)
    c = [int(v or 0) for v in row[1:12]]
    return HourFigures(hour, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], float(row[12] or 0.0))


async def hourly_figures(
    conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime, resolve_after: timedelta
) -> list[HourFigures]:
    """Figures of the customer contacts decided in ``[start, end)``, per UTC hour (hours with contacts only)."""
    sql = SqlDialect(conn.dialect.name)
    hour = sql.hour(facts.c.decided_at).label("hour")
    query = (
        select(hour, *fact_hour_columns(sql, now=now, resolve_after=resolve_after))
        .where(facts.c.decided_at >= start, facts.c.decided_at < end, facts.c.channel == "customer")
        .group_by(hour)
    )
    return [to_figures(row) for row in (await conn.execute(query)).all()]
