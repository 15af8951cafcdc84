"""``SqlReportSource``: the reports' :class:`~automations.reports.ports.ReportSource` over the SQL event store.

A period is read as its whole UTC days (hours, for the series) from the rollups plus its partial first and last
day (hour) from the fact table, so the cost of a report hardly depends on the length of its period.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.reports.periods import Period
from automations.reports.ports import (
    CubeRow,
    DurationRow,
    GapQuestion,
    HourFigures,
    HourlyCount,
    ReportSource,
)
from automations.reports.values import SlaDeadline
from store.reports import lookups, queries, rollup, series
from store.reports.facts import refresh_facts

__all__ = ["SqlReportSource", "split"]

T = TypeVar("T")
Span = tuple[datetime, datetime]


def _floor(moment: datetime, unit: timedelta) -> datetime:
    moment = moment.astimezone(UTC)
    cut = moment.replace(minute=0, second=0, microsecond=0)
    return cut.replace(hour=0) if unit == rollup.DAY else cut


def split(start: datetime, end: datetime, unit: timedelta) -> tuple[list[Span], Span | None]:
    """``[start, end)`` as its whole UTC ``unit`` s (days or hours) and the partial pieces at either end."""
    first = _floor(start, unit)
    first = first if first == start else first + unit
    last = _floor(end, unit)
    if first >= last:
        return [(start, end)], None
    return [(a, b) for a, b in ((start, first), (last, end)) if a < b], (first, last)


class SqlReportSource:
    """Reads the reports' aggregates from ``engine`` (SQLite or PostgreSQL, already migrated).

    Every read opens its own connection on the read-only view of the engine (:func:`store.reports.queries.reader`),
    so concurrent reads run in parallel and, on SQLite, neither block nor wait for writers; only :meth:`refresh`
    writes (one short transaction on ``engine``).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (e.g. ``SqlEventStore.engine``) for the refresh and its read-only view for reads."""
        self.engine = engine
        self._reader = queries.reader(engine)

    async def _read(self, query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self._reader.connect() as conn:
            return await query(conn)

    async def _all(self, reads: Sequence[Callable[[AsyncConnection], Awaitable[list[T]]]]) -> list[T]:
        parts = await asyncio.gather(*(self._read(r) for r in reads))
        return [row for part in parts for row in part]

    async def refresh(self) -> int:
        """Bring ``report_facts`` and its rollups up to date; returns the number of contacts recomputed."""
        return await refresh_facts(self.engine)

    async def outcome_cube(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[CubeRow]:
        """The period's cube: whole days from ``report_daily`` (plus their overdue open deadlines), the rest from
        ``report_facts``."""
        edges, whole = split(period.start, period.end, rollup.DAY)
        reads: list[Callable[[AsyncConnection], Awaitable[list[CubeRow]]]] = [
            partial(queries.fact_cube, start=a, end=b, now=now, resolve_after=resolve_after) for a, b in edges
        ]
        if whole is not None:
            start, end = whole
            reads.append(lambda c: rollup.rollup_cube(c, start, end, now=now, resolve_after=resolve_after))
            reads.append(lambda c: rollup.open_cube(c, start, end, now=now))
        return await self._all(reads)

    async def durations(self, period: Period) -> list[DurationRow]:
        """The period's duration histograms: whole days from ``report_durations``, the rest from the facts."""
        edges, whole = split(period.start, period.end, rollup.DAY)
        reads: list[Callable[[AsyncConnection], Awaitable[list[DurationRow]]]] = [
            partial(queries.fact_durations, start=a, end=b) for a, b in edges
        ]
        if whole is not None:
            start, end = whole
            reads.append(lambda c: rollup.rollup_durations(c, start, end))
        return await self._all(reads)

    async def hourly_figures(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[HourFigures]:
        """The period's figures per UTC hour: whole hours from ``report_hourly``, the rest from the facts."""
        edges, whole = split(period.start, period.end, rollup.HOUR)
        reads: list[Callable[[AsyncConnection], Awaitable[list[HourFigures]]]] = [
            partial(series.hourly_figures, start=a, end=b, now=now, resolve_after=resolve_after) for a, b in edges
        ]
        overdue: dict[datetime, int] = {}
        if whole is not None:
            start, end = whole
            reads.append(lambda c: rollup.rollup_hours(c, start, end, now=now, resolve_after=resolve_after))
            overdue = await self._read(lambda c: rollup.open_hours(c, start, end, now=now))
        rows = await self._all(reads)
        return [replace(r, sla_missed=r.sla_missed + overdue.get(r.hour, 0)) if overdue else r for r in rows]

    async def hourly_counts(
        self, windows: Sequence[tuple[datetime, datetime]], *, by_category: bool = False
    ) -> list[HourlyCount]:
        """Contacts per UTC hour in any of ``windows`` (from ``report_facts``)."""
        return await self._read(lambda c: queries.hourly_counts(c, windows, by_category=by_category))

    async def open_deadlines(self, now: datetime, *, due_after: datetime) -> list[SlaDeadline]:
        """Open hand-off deadlines due at or after ``due_after`` (from the event store)."""
        return await self._read(lambda c: lookups.open_deadlines(c, now, due_after=due_after))

    async def kb_gap_questions(self, period: Period, *, limit: int) -> list[GapQuestion]:
        """The period's latest KB-gap hand-offs' texts and drivers (from the event store)."""
        return await self._read(lambda c: lookups.kb_gap_questions(c, period.start, period.end, limit=limit))

    async def contact_texts(self, category: str, start: datetime, end: datetime, *, limit: int) -> list[str]:
        """Latest texts of a driver's contacts in ``[start, end)`` (from the event store)."""
        return await self._read(lambda c: lookups.contact_texts(c, category, start, end, limit=limit))


def _conforms(engine: AsyncEngine) -> ReportSource:  # mypy checks that SqlReportSource implements the port
    return SqlReportSource(engine)
