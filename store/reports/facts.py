"""The per-contact fact table behind the metrics engine and its rollups, refreshed incrementally.

``report_facts`` holds one narrow row per contact (driver, tier, source, action, current outcome, SLA deadlines,
first response and close times, CSAT totals), clustered by decision time, so a report reads one range of one table
instead of joining five. It is derived data: :func:`refresh_facts` recomputes the rows of every contact touched
since the last refresh, found through the autoincrement ids of ``outcome_transitions`` (every decision and every
outcome change writes one), ``agent_events`` and ``feedback``; ids survive back-dated timestamps. On PostgreSQL,
where a lower id can commit after a higher one, each refresh looks back ``PG_LAG`` ids more (recomputing a row
is idempotent). The first refresh, or one with very many touched contacts, rebuilds the whole table. The rollups
(:mod:`store.reports.rollup`) of every UTC day a touched contact was decided in are recomputed in the same
transaction, so facts and rollups always agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Interval, Select, and_, case, delete, func, insert, literal, select, text, union
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.reports.values import KB_GAP_REASONS
from store.reports.queries import agent_events, contacts, decisions, feedback, outcomes
from store.reports.rollup import days_of, refresh_rollups
from store.reports.tables import ReportFactRow, ReportStateRow
from store.tables import Base

__all__ = ["FULL_REBUILD_AT", "PG_LAG", "REPEAT_WITHIN", "facts", "refresh_facts"]

facts = Base.metadata.tables[ReportFactRow.__tablename__]
_state = Base.metadata.tables[ReportStateRow.__tablename__]
_transitions = Base.metadata.tables["outcome_transitions"]
_SOURCES = {"outcome_transitions": _transitions, "agent_events": agent_events, "feedback": feedback}
PG_LAG = 1000
REPEAT_WITHIN = timedelta(days=7)
"""A contact is a repeat when the same customer contacted about the same driver this long before it, or less."""
FULL_REBUILD_AT = 50_000
CHUNK = 500
REFRESH_LOCK_KEY = 0x52455054  # "REPT": one refresher at a time on PostgreSQL


def _first_event(kind: str) -> Any:
    return (
        select(func.min(agent_events.c.at))
        .where(agent_events.c.contact_id == decisions.c.contact_id, agent_events.c.kind == kind)
        .scalar_subquery()
    )


def _csat(expr: Any) -> Any:
    return (
        select(func.coalesce(func.sum(expr), 0))
        .where(feedback.c.contact_id == decisions.c.contact_id, feedback.c.csat.is_not(None))
        .scalar_subquery()
    )


def _repeat(dialect: str) -> Any:
    """Whether the same customer contacted about the same driver in the :data:`REPEAT_WITHIN` before this contact."""
    prior = outcomes.alias("prior")
    if dialect == "sqlite":  # naive UTC text: compare with text of the same shape (milliseconds)
        since: Any = func.strftime("%Y-%m-%d %H:%M:%f", outcomes.c.decided_at, f"-{REPEAT_WITHIN.days} days")
    else:
        since = outcomes.c.decided_at - literal(REPEAT_WITHIN, Interval())
    return (
        select(prior.c.contact_id)
        .where(
            prior.c.customer_id == outcomes.c.customer_id,
            prior.c.category == outcomes.c.category,
            prior.c.decided_at < outcomes.c.decided_at,
            prior.c.decided_at >= since,
        )
        .exists()
    )


def _rows(dialect: str) -> Select[Any]:
    """The fact rows, computed from the event store (filter with ``.where`` on ``decisions``)."""
    return select(
        decisions.c.decided_at, decisions.c.contact_id, contacts.c.received_at, contacts.c.channel, contacts.c.source,
        decisions.c.category, decisions.c.group, decisions.c.tier, decisions.c.action, outcomes.c.state,
        decisions.c.reason.in_(KB_GAP_REASONS), decisions.c.latency_ms, decisions.c.first_response_due,
        decisions.c.resolution_due, _first_event("first_response"), _first_event("closed"), _csat(1),
        _csat(feedback.c.csat), _csat(case((feedback.c.csat >= 4, 1), else_=0)),
        and_(outcomes.c.customer_id.is_not(None), _repeat(dialect)),
    ).select_from(
        decisions.join(contacts, contacts.c.id == decisions.c.contact_id).join(
            outcomes, outcomes.c.contact_id == decisions.c.contact_id
        )
    )  # fmt: skip


_COLUMNS = [c.name for c in facts.columns]


async def _rebuild(conn: AsyncConnection) -> int:
    await conn.execute(delete(facts))
    await conn.execute(insert(facts).from_select(_COLUMNS, _rows(conn.dialect.name)))
    await refresh_rollups(conn, None)
    return int(await conn.scalar(select(func.count()).select_from(facts)) or 0)


async def _update(conn: AsyncConnection, touched: list[str]) -> None:
    """Recompute the fact rows of ``touched`` contacts; rewrite only the rows that changed, and the rollups of their
    days (on PostgreSQL most of the look-back finds rows that were already right)."""
    moments: list[datetime] = []
    dialect = conn.dialect.name
    for start in range(0, len(touched), CHUNK):
        chunk = touched[start : start + CHUNK]
        stored = {tuple(r) for r in (await conn.execute(select(facts).where(facts.c.contact_id.in_(chunk)))).all()}
        fresh = {tuple(r) for r in (await conn.execute(_rows(dialect).where(decisions.c.contact_id.in_(chunk)))).all()}
        changed = stored ^ fresh
        if not changed:
            continue
        ids = sorted({str(row[1]) for row in changed})
        await conn.execute(delete(facts).where(facts.c.contact_id.in_(ids)))
        await conn.execute(insert(facts).from_select(_COLUMNS, _rows(dialect).where(decisions.c.contact_id.in_(ids))))
        moments.extend(row[0] for row in changed)
    if moments:
        await refresh_rollups(conn, days_of(moments))


async def refresh_facts(engine: AsyncEngine) -> int:
    """Bring ``report_facts`` up to date; returns the number of contacts recomputed (one transaction)."""
    async with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK_KEY})
        marks = {row[0]: int(row[1]) for row in (await conn.execute(select(_state.c.name, _state.c.value))).all()}
        tops = {
            name: int(await conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)
            for name, table in _SOURCES.items()
        }
        if set(marks) != set(_SOURCES):
            done = await _rebuild(conn)
        else:
            lag = PG_LAG if postgres else 0
            touched_query = union(
                *(
                    select(table.c.contact_id).where(table.c.id > marks[name] - lag, table.c.id <= tops[name])
                    for name, table in _SOURCES.items()
                )
            )
            touched = list((await conn.scalars(touched_query)).all())
            if len(touched) > FULL_REBUILD_AT:
                done = await _rebuild(conn)
            else:
                await _update(conn, touched)
                done = len(touched)
        await conn.execute(delete(_state))
        await conn.execute(insert(_state), [{"name": name, "value": value} for name, value in tops.items()])
    return done
