"""The reports' one capability port, :class:`ReportSource`, and the plain rows that cross it.

The report code in :mod:`automations.reports` is pure: it never sees a database. Everything it reads comes through
a :class:`ReportSource` as small aggregates (a few hundred rows at most, whatever the number of contacts) or short
lists of redacted texts. The SQL implementation over the event store is ``store.reports.SqlReportSource``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from automations.reports.periods import Period
from automations.reports.values import SlaDeadline

__all__ = ["CubeRow", "DurationRow", "GapQuestion", "HourFigures", "HourlyCount", "ReportSource"]


@dataclass(frozen=True, slots=True)
class CubeRow:
    """Customer contacts with one combination of driver, tier, source, action and effective outcome state, with
    what the metrics sum over them: bot latency, repeats, first responses, CSAT responses, and SLA deadlines of the
    hand-offs (``*_missed`` counts late events and open deadlines already past due when the report asks)."""

    category: str
    group: str
    tier: str
    source: str
    action: str
    state: str
    kb_gap: bool
    count: int
    latency_ms: float
    repeats: int = 0
    frt_count: int = 0
    frt_total_s: float = 0.0
    csat_responses: int = 0
    csat_total: int = 0
    csat_satisfied: int = 0
    fr_met: int = 0
    fr_missed: int = 0
    res_met: int = 0
    res_missed: int = 0


@dataclass(frozen=True, slots=True)
class DurationRow:
    """One bucket of a hand-off duration histogram: ``metric`` ``frt`` (first response) or ``res`` (resolution);
    ``bucket`` = duration // bucket width (:data:`~automations.reports.values.FRT_BUCKET_S`,
    :data:`~automations.reports.values.RES_BUCKET_S`)."""

    metric: str
    bucket: int
    count: int
    total_s: float


@dataclass(frozen=True, slots=True)
class HourlyCount:
    """Customer contacts decided in one UTC hour (``hour`` is its aware UTC start) with one key and action."""

    hour: datetime
    key: str
    action: str
    count: int


@dataclass(frozen=True, slots=True)
class HourFigures:
    """The headline figures of the customer contacts decided in one UTC hour (``hour``: its aware start), for the
    daily trend series. SLA and first-response figures are over hand-offs, as in the period's metrics."""

    hour: datetime
    contacts: int
    bot_answered: int
    deflected: int
    settled: int
    repeats: int
    csat_responses: int
    csat_total: int
    csat_satisfied: int
    sla_met: int
    sla_missed: int
    frt_count: int
    frt_total_s: float


@dataclass(frozen=True, slots=True)
class GapQuestion:
    """The redacted text and driver of a contact handed off because the knowledge base had no good answer."""

    text: str
    category: str


class ReportSource(Protocol):
    """What the reports read: the per-contact fact table's aggregates, open SLA deadlines and a few texts.

    Every reading method works on customer contacts only (agents' questions to the bot are not contacts) and
    takes half-open ``[start, end)`` intervals of aware datetimes. Reads never block writers of the event store.
    """

    async def refresh(self) -> int:
        """Bring the fact table behind the aggregates up to date (a short write); returns the contacts recomputed.

        The aggregate methods read the facts as of the last refresh, so call this first unless the caller just
        did (or must never take a write lock).
        """
        ...

    async def outcome_cube(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[CubeRow]:
        """Contacts decided in ``period`` by driver/tier/source/action/effective state, with their sums.

        The effective state counts an ``answered`` outcome decided before ``now - resolve_after`` as ``resolved``
        (what the finalize job will make of it). A deadline is met when its agent event (first response, closure)
        came by it, missed when it came later or has not come and the deadline is before ``now``. Several rows may
        share a key (the caller sums them).
        """
        ...

    async def durations(self, period: Period) -> list[DurationRow]:
        """First-response and resolution-time histograms of the hand-offs decided in ``period``, both measured from
        the contact's receipt to the first ``first_response`` / ``closed`` agent event."""
        ...

    async def hourly_figures(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[HourFigures]:
        """The figures of the contacts decided in ``period``, one row per UTC hour that has any (the effective
        outcome and SLA states as in :meth:`outcome_cube`)."""
        ...

    async def hourly_counts(
        self, windows: Sequence[tuple[datetime, datetime]], *, by_category: bool = False
    ) -> list[HourlyCount]:
        """Contacts per UTC hour decided in any of ``windows``, by action, and by category when ``by_category``
        (else the key is ``""``)."""
        ...

    async def open_deadlines(self, now: datetime, *, due_after: datetime) -> list[SlaDeadline]:
        """Hand-off deadlines of contacts decided by ``now``, due at or after ``due_after``, with no completing
        agent event yet (first response, or closure for the resolution deadline); each seen at ``now``."""
        ...

    async def kb_gap_questions(self, period: Period, *, limit: int) -> list[GapQuestion]:
        """Up to ``limit`` contacts decided in ``period`` and handed off because no article answered them
        (:data:`~automations.reports.values.KB_GAP_REASONS`), latest first."""
        ...

    async def contact_texts(self, category: str, start: datetime, end: datetime, *, limit: int) -> list[str]:
        """Up to ``limit`` redacted texts of ``category`` contacts decided in ``[start, end)``, latest first."""
        ...
