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

__all__ = ["CsatRow", "CubeRow", "GapQuestion", "HourFigures", "HourlyCount", "ReportSource", "TimingRow"]


@dataclass(frozen=True, slots=True)
class CubeRow:
    """Count of customer contacts with one combination of driver, tier, source, action and effective state."""

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


@dataclass(frozen=True, slots=True)
class CsatRow:
    """CSAT responses on contacts of one driver/tier/source/action."""

    category: str
    group: str
    tier: str
    source: str
    action: str
    responses: int
    total: int
    satisfied: int


@dataclass(frozen=True, slots=True)
class TimingRow:
    """One row of the hand-off timing cube: ``metric`` is ``sla`` (first/second = first-response/resolution
    state: ``met``, ``missed``, ``pending`` or ``none``), ``frt`` or ``res`` (bucket = duration // bucket width,
    :data:`~automations.reports.values.FRT_BUCKET_S` and :data:`~automations.reports.values.RES_BUCKET_S`)."""

    metric: str
    tier: str
    first: str
    second: str
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
        """Contacts decided in ``period`` by driver/tier/source/action/effective state.

        The effective state counts an ``answered`` outcome decided before ``now - resolve_after`` as ``resolved``
        (what the finalize job will make of it).
        """
        ...

    async def csat_cube(self, period: Period) -> list[CsatRow]:
        """CSAT responses (1..5) given on contacts decided in ``period``, by driver/tier/source/action."""
        ...

    async def timing_cube(self, period: Period, *, now: datetime) -> list[TimingRow]:
        """SLA outcomes and first-response/resolution histograms of the hand-offs decided in ``period``.

        Durations run from the contact's receipt to the first ``first_response`` / ``closed`` agent event; a
        deadline with no event yet is ``missed`` once it has passed at ``now`` and ``pending`` before.
        """
        ...

    async def hourly_figures(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[HourFigures]:
        """The figures of the contacts decided in ``period``, one row per UTC hour that has any (the effective
        outcome and SLA states as in :meth:`outcome_cube` and :meth:`timing_cube`)."""
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
