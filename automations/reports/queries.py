"""The reporting SQL, portable between SQLite and PostgreSQL.

The metrics queries read ``report_facts`` (kept current by :func:`automations.reports.facts.refresh_facts`).
Every query aggregates in the database and returns a few hundred rows at most, whatever the number of contacts:
the per-period "cube" (counts by driver, tier, source, action and effective outcome), the CSAT cube, and the
hand-off timing cube (SLA outcomes plus first-response and resolution-time histograms). Only the arithmetic on
timestamps differs by dialect (:class:`SqlDialect`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.reports.periods import Period
from store.report_tables import ReportFactRow
from store.sql import READONLY_OPTION
from store.tables import Base

__all__ = [
    "FRT_BUCKET_S",
    "KB_GAP_REASONS",
    "READONLY_OPTION",
    "RES_BUCKET_S",
    "CsatRow",
    "CubeRow",
    "SqlDialect",
    "TimingRow",
    "csat_cube",
    "customer_contacts_between",
    "hourly_counts",
    "outcome_cube",
    "reader",
    "timing_cube",
]

KB_GAP_REASONS = ("low_retrieval_score", "answerer_abstained")
"""Hand-off reasons that mean "the knowledge base had no good answer"."""
FRT_BUCKET_S = 60
RES_BUCKET_S = 900

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
    """One row of the hand-off timing cube: ``metric`` is ``sla`` (a/b = first-response/resolution state),
    ``frt`` or ``res`` (bucket = duration // bucket width)."""

    metric: str
    tier: str
    first: str
    second: str
    bucket: int
    count: int
    total_s: float


def _in_period(period: Period) -> ColumnElement[bool]:
    return and_(facts.c.decided_at >= period.start, facts.c.decided_at < period.end, facts.c.channel == "customer")


def _joined() -> Any:
    return decisions.join(contacts, contacts.c.id == decisions.c.contact_id)


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
        select(*keys, func.count().label("n"), func.coalesce(func.sum(facts.c.latency_ms), 0.0))
        .where(_in_period(period))
        .group_by(*keys)
    )
    rows = (await conn.execute(query)).all()
    return [CubeRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), int(r[7]), float(r[8])) for r in rows]


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


def customer_contacts_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Filter for customer contacts decided in ``[start, end)`` (for other reporting modules)."""
    return and_(decisions.c.decided_at >= start, decisions.c.decided_at < end, contacts.c.channel == "customer")


async def hourly_counts(
    conn: AsyncConnection, windows: list[tuple[datetime, datetime]], *, by_category: bool = False
) -> list[tuple[str, str, str, int]]:
    """Customer contacts per UTC hour (``YYYY-MM-DD HH``) in any of ``windows``, as ``(hour, key, action, n)``
    rows; ``key`` is the category when ``by_category``, else ``""``."""
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
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in (await conn.execute(query)).all()]
