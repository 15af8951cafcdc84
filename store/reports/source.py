"""``SqlReportSource``: the reports' :class:`~automations.reports.ports.ReportSource` over the SQL event store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.reports.periods import Period
from automations.reports.ports import (
    CsatRow,
    CubeRow,
    GapQuestion,
    HourFigures,
    HourlyCount,
    ReportSource,
    TimingRow,
)
from automations.reports.values import SlaDeadline
from store.reports import lookups, queries, series
from store.reports.facts import refresh_facts

__all__ = ["SqlReportSource"]

T = TypeVar("T")


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

    async def refresh(self) -> int:
        """Bring ``report_facts`` up to date; returns the number of contacts recomputed."""
        return await refresh_facts(self.engine)

    async def outcome_cube(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[CubeRow]:
        """Contacts decided in ``period`` by driver/tier/source/action/effective state (from ``report_facts``)."""
        return await self._read(lambda c: queries.outcome_cube(c, period, now=now, resolve_after=resolve_after))

    async def csat_cube(self, period: Period) -> list[CsatRow]:
        """CSAT responses given on contacts decided in ``period`` (from ``report_facts``)."""
        return await self._read(lambda c: queries.csat_cube(c, period))

    async def timing_cube(self, period: Period, *, now: datetime) -> list[TimingRow]:
        """SLA outcomes and duration histograms of the period's hand-offs (from ``report_facts``)."""
        return await self._read(lambda c: queries.timing_cube(c, period, now=now))

    async def hourly_figures(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[HourFigures]:
        """The period's headline figures per UTC hour (from ``report_facts``)."""
        return await self._read(
            lambda c: series.hourly_figures(c, period.start, period.end, now=now, resolve_after=resolve_after)
        )

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
